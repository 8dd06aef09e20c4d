/**
 * The workflow sandbox's boundary: the bundle workers load takes modules from src/core/ only, and
 * the lint rule that keeps Node builtins out of workflow code covers every one of them, by glob,
 * so a module added to the bundle is covered without editing a list.
 */
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ESLint } from 'eslint';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
let bundled: string[] = [];

beforeAll(async () => {
  const quiet = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(ROOT, 'src/core/workflows/index.ts'), logger: quiet });
  bundled = [...new Set(code.match(/"\.\/src\/[^"]+\.ts"/g) ?? [])].map((m) => m.slice(3, -1)).sort();
}, 60_000);

describe('the workflow bundle', () => {
  it('contains the workflow and the pure modules it needs, all under src/core/', () => {
    expect(bundled).toContain('src/core/workflows/phased-run.ts');
    expect(bundled.length).toBeGreaterThan(5);
    expect(bundled.filter((file) => !file.startsWith('src/core/'))).toEqual([]);
  });

  it('is linted so that a Node builtin imported into any of its modules is an error', async () => {
    // With CI=true typescript-eslint infers a single run and parses files from disk, which would
    // lint the module without the probe below; this test lints text that is not on disk.
    const eslint = new ESLint({ cwd: ROOT, overrideConfig: { languageOptions: { parserOptions: { disallowAutomaticSingleRunInference: true } } } });
    // Every module in the bundle gets the rule, by the config ESLint computes for its path.
    for (const file of bundled) {
      const config = await eslint.calculateConfigForFile(path.join(ROOT, file));
      const rule = config?.rules?.['no-restricted-imports'];
      expect(Array.isArray(rule) ? rule[0] : rule, file).toBe(2);
    }
    // And the rule fires: a Node builtin prepended to the first module is reported.
    const first = bundled[0]!;
    const text = `import { readFileSync } from 'node:fs';\nexport const _probe = readFileSync;\n${await readFile(path.join(ROOT, first), 'utf8')}`;
    const [result] = await eslint.lintText(text, { filePath: path.join(ROOT, first) });
    const messages = [...result!.messages, ...result!.suppressedMessages];
    expect(messages.map((m) => m.ruleId), `${first}: ${JSON.stringify(messages)}`).toContain('no-restricted-imports');
  }, 120_000);
});
