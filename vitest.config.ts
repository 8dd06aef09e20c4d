import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The JSON report is what .ci/run counts passed and failed tests from.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      { test: { name: 'unit', include: ['tests/unit/**/*.test.ts', 'tests/bad-inputs/plans-and-configs.test.ts', 'tests/bad-inputs/secrets.test.ts', 'tests/bad-inputs/limits.test.ts', 'tests/bad-inputs/files-and-names.test.ts', 'tests/bad-inputs/phase-files.test.ts'] } },
      // Recorded histories against the built workflow bundle (no server needed).
      { test: { name: 'replay', include: ['tests/replay/**/*.test.ts'], testTimeout: 60_000 } },
      // The real workflow on real workers against Temporal's time-skipping test server, with stub
      // activities: waits of days (agent timeouts) and lost workers in seconds.
      {
        test: {
          name: 'workflow',
          include: ['tests/workflow/**/*.test.ts'],
          globalSetup: ['tests/workflow/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/bad-inputs/run-inputs.test.ts', 'tests/bad-inputs/output-schemas.test.ts', 'tests/bad-inputs/agent-results.test.ts', 'tests/bad-inputs/untrusted-inputs.test.ts', 'tests/bad-inputs/oversized.test.ts', 'tests/bad-inputs/signal-limits.test.ts', 'tests/bad-inputs/phase-leftovers.test.ts', 'tests/bad-inputs/ui-names.test.ts', 'tests/bad-inputs/soak.test.ts', 'tests/chaos/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
          // One dev server and one set of workers per file; files share the server, so they run one at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
