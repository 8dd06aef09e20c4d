// ESLint flat config: type-aware rules for the sources, plus the one rule Temporal's
// sandbox makes essential: workflow code must not reach for Node builtins.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/.venv/**', '.temporal/**', '**/.baton/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // baton ui's page runs in the browser: its own TypeScript project (DOM, no Node).
    files: ['src/web/page/**/*.ts'],
    languageOptions: { globals: globals.browser, parserOptions: { project: './src/web/page/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    // Everything under src/core/ may be loaded into the workflow sandbox: the rule covers the tree by
    // glob, and tests/unit/workflow-bundle.test.ts checks that the bundle takes nothing from outside it.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Workflow code runs in a deterministic sandbox: no Node builtins. Do I/O in an activity.' },
            { group: ['fs', 'fs/*', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'worker_threads', 'process'], message: 'Workflow code runs in a deterministic sandbox: no Node builtins. Do I/O in an activity.' },
            { group: ['**/activities/*', '!**/activities/types.js'], message: 'Workflows import only types from activities.', allowTypeImports: true },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' }, { name: 'setInterval', message: 'Use sleep() in a loop.' }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
);
