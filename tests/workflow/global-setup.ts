/**
 * The workflow tier's setup: Temporal's time-skipping test server, from Maven Central through
 * `scripts/test-server.sh` (which installs it on first use into .temporal/test-server/), and the
 * workflow bundle built once from the TypeScript sources for every file's worker.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The wrapper that starts the test server: `<path> <port>`. */
    testServerPath: string;
    /** The `phasedRun` workflow bundle, built from src/core/workflows/index.ts. */
    workflowBundle: string;
  }
}

const ROOT = path.resolve(import.meta.dirname, '../..');

export async function setup(project: TestProject): Promise<void> {
  const server = execFileSync('bash', [path.join(ROOT, 'scripts/test-server.sh'), 'path'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const quiet = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(ROOT, 'src/core/workflows/index.ts'), logger: quiet });
  project.provide('testServerPath', server);
  project.provide('workflowBundle', code);
}
