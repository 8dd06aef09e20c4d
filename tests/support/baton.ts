/**
 * Helpers for integration tests: real `baton` processes against the test dev server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { Orchestrator, type RunHandle } from '../../src/client/orchestrator.js';
import type { RunStatus } from '../../src/core/api/status.js';
import { runPaths } from '../../src/runner/workdir.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BATON = path.join(ROOT, 'dist/cli/main.js');
export const FIXTURES = path.join(ROOT, 'tests/fixtures');
export const PHASE_SCRIPT = path.join(FIXTURES, 'phase.mjs');

export function batonEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_UI_URL: inject('temporalUiUrl'),
    BATON_LOG_LEVEL: 'WARN',
    ...extra,
  };
}

export interface WorkerProcess {
  proc: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `baton worker <args>` and resolves once it polls its queues. */
export async function startWorker(args: string[], env: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
  // BATON_TEST_PRIVATE_DIR: the worker runs in a mount namespace of its own, with an empty tmpfs over
  // that directory, as a machine that shares nothing with the others would see it.
  const hidden = env.BATON_TEST_PRIVATE_DIR;
  const command: [string, string[]] = hidden
    ? ['unshare', ['-m', 'sh', '-c', 'mount -t tmpfs none "$BATON_TEST_PRIVATE_DIR" && exec "$@"', 'sh', process.execPath, BATON, 'worker', ...args]]
    : [process.execPath, [BATON, 'worker', ...args]];
  const proc = spawn(command[0], command[1], { env: batonEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start in 30s:\n${output}`)), 30_000);
    const check = (): void => {
      if (output.includes('baton worker serving')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before serving:\n${output}`));
    });
  });
  return {
    proc,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `baton <args>` to completion. */
export function baton(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BATON, ...args], { env: batonEnv(opts.env), cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`baton ${args.join(' ')} did not finish in time:\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 100_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function testClient(): Promise<Client> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  return new Client({ connection, namespace: 'default' });
}

export async function tempDir(prefix = 'baton-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function writeJson(file: string, value: unknown): Promise<string> {
  await writeFile(file, JSON.stringify(value, null, 2));
  return file;
}

/** Where a run's own files are: `<workdir>/runs/<run>` (handoffs/, logs/, outputs/). */
export function runDir(workdir: string, runId: string): string {
  return runPaths(workdir, runId).run;
}

/** A phase running the configurable fixture script. */
export function fixturePhase(id: number | string, dependsOn: Array<number | string> = [], config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return { id, name: `Phase ${id}`, depends_on: dependsOn, command: ['node', PHASE_SCRIPT], config, ...extra };
}

/** Runs matching a visibility query; visibility lags a moment behind the run, so it polls for the one expected. */
export async function findRuns(client: Client, query: string, expected: string, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found: string[] = [];
    for await (const wf of client.workflow.list({ query })) found.push(wf.workflowId);
    if (found.includes(expected) || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls a run's status until `test` holds; fails with the last status when it does not in time. */
export async function until(run: RunHandle, what: string, test: (s: RunStatus) => boolean, timeoutMs = 30_000): Promise<RunStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await run.status();
    if (test(status)) return status;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(status.phases)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/**
 * A `baton worker` and an Orchestrator for the tests of one file: started before them, the worker
 * stopped after them. Read the fields inside tests (they are set once `beforeAll` has run).
 */
export function workerForFile(args: string[] = [], env: NodeJS.ProcessEnv = {}): { readonly worker: WorkerProcess; readonly orchestrator: Orchestrator } {
  const context = {} as { worker: WorkerProcess; orchestrator: Orchestrator };
  beforeAll(async () => {
    context.worker = await startWorker(args, env);
    context.orchestrator = new Orchestrator(await testClient());
  });
  afterAll(async () => {
    await context.worker?.stop();
  });
  return context;
}

/** Starts workers as a test goes; each is killed with SIGKILL after the test that started it. */
export function workersPerTest(): (args: string[], env?: NodeJS.ProcessEnv) => Promise<WorkerProcess> {
  const workers: WorkerProcess[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL')));
  });
  return async (args, env = {}) => {
    const w = await startWorker(args, env);
    workers.push(w);
    return w;
  };
}

/** Runs the Temporal CLI against the test server (`temporal <args> --address …`); resolves with its stdout. */
export async function temporal(args: string[]): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(inject('temporalBinary'), [...args, '--address', inject('temporalAddress'), '--namespace', 'default'], (err, stdout, stderr) => {
      if (err) reject(new Error(`temporal ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}
