/**
 * The bad-input catalogue, part 5, on a dev server of its own: one that takes 1,000 signals per
 * execution rather than Temporal's 10,000 (so the limit is reached in seconds), on a SQLite file
 * (so it can be restarted under a running phase).
 *
 * - A flood of junk signals: the run keeps the latest 100 notices (before, every refusal was kept
 *   whole, and 10,000 of them grew the status to 2 MB), still answers `status` within a second,
 *   and the signal past Temporal's limit gets an error that names the limit (before: `Failed to
 *   signal Workflow`, nothing more). It can be aborted.
 * - A server restart under a running phase: the next attempt's notice does not blame the worker,
 *   which kept running (before: "its worker stopped answering (died, or lost the server)").
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Orchestrator, type RunHandle } from '../../src/client/orchestrator.js';
import { baton, fixturePhase, ROOT, startWorker, tempDir, until, type WorkerProcess } from '../support/baton.js';
import { freePort } from '../support/ports.js';

const SIGNALS_PER_EXECUTION = 1_000;
const binary = execFileSync('bash', [path.join(ROOT, 'temporal-dev.sh'), 'path'], { encoding: 'utf8' }).trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: ChildProcess | undefined;
let worker: WorkerProcess | undefined;
let address = '';
let db = '';
let ports: { port: number; ui: number };
let orchestrator: Orchestrator;

async function startServer(): Promise<ChildProcess> {
  const proc = spawn(
    binary,
    ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(ports.port), '--ui-port', String(ports.ui), '--headless', '--db-filename', db, '--log-level', 'error',
      '--dynamic-config-value', `history.maximumSignalsPerExecution=${SIGNALS_PER_EXECUTION}`],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 150; i++) {
    try {
      execFileSync(binary, ['operator', 'cluster', 'health', '--address', address], { stdio: 'ignore' });
      return proc;
    } catch {
      await sleep(200);
    }
  }
  proc.kill('SIGKILL');
  throw new Error('the dev server did not come up');
}

async function stopServer(): Promise<void> {
  const proc = server;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  ports = { port: await freePort(), ui: await freePort() };
  address = `127.0.0.1:${ports.port}`;
  db = path.join(await tempDir('baton-limits-db-'), 'temporal.sqlite');
  server = await startServer();
  worker = await startWorker([], { TEMPORAL_ADDRESS: address });
  orchestrator = new Orchestrator(new Client({ connection: await Connection.connect({ address }), namespace: 'default' }));
});

afterAll(async () => {
  await worker?.stop();
  await stopServer();
});

async function answersWithinASecond(run: RunHandle) {
  const started = Date.now();
  const status = await run.status();
  expect(Date.now() - started, 'status answers within a second').toBeLessThan(1_000);
  return status;
}

describe('a run under a flood of signals, and past Temporal\'s limit on them', () => {
  it(`keeps the latest 100 notices, answers status within a second, and names the limit when signal ${SIGNALS_PER_EXECUTION + 1} is refused`, async () => {
    // Phase 0 runs throughout, so the run cannot continue as new (which would start a fresh count).
    const run = await orchestrator.start({ name: 'flooded', workdir: await tempDir(), phases: [fixturePhase(0, [], { sleep_ms: 120_000 }), fixturePhase(1, [0])] });
    await until(run, 'phase 0 running', (s) => s.phases['0']!.state === 'running');
    let sent = 0;
    const send = async (): Promise<void> => {
      while (sent < SIGNALS_PER_EXECUTION) {
        const n = sent++;
        await run.workflow.signal('retryPhase', { phase: `nope-${n}`, downstream: true });
      }
    };
    await Promise.all(Array.from({ length: 20 }, send));
    const status = await until(run, 'the last notice', (s) => (s.notices_dropped ?? 0) + s.notices.length >= SIGNALS_PER_EXECUTION, 60_000);
    await answersWithinASecond(run);
    expect(status.notices).toHaveLength(100);
    expect(status.notices_dropped).toBe(SIGNALS_PER_EXECUTION - 100);
    expect(status.notices.at(-1)).toMatch(/^retryPhase: the plan has no phase nope-\d+; phases are 0, 1$/);
    expect(Buffer.byteLength(JSON.stringify(status))).toBeLessThan(64 * 1024);

    // One more: Temporal refuses it, and the error says which limit and what happens next.
    await expect(run.reportProgress(0, 'still here')).rejects.toThrow(/^run flooded-\S+ has taken all the signals Temporal allows one execution \(history\.maximumSignalsPerExecution, 10,000 on default settings\), so Temporal refused this one \(.*exceeded workflow execution limit for signal events.*\)\. The run takes signals again once it continues as new/);
    // `baton`'s operations are updates, not signals: they still work, and answer.
    const cli = await baton(['skip', run.runId, '1'], { env: { TEMPORAL_ADDRESS: address } });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('phase 1 (Phase 1) is skipped');

    // Still answers, and can be aborted (a cancellation is not a signal); nothing is lost.
    await answersWithinASecond(run);
    await run.abort();
    for (let i = 0; i < 200 && (await run.workflow.describe()).status.name === 'RUNNING'; i++) await sleep(150);
    expect((await run.workflow.describe()).status.name).toBe('CANCELLED');
    const final = await run.status();
    expect(final.phases['0']).toMatchObject({ state: 'failed', error: 'cancelled: the run was aborted while this phase was in flight' });
    expect(final.phases['1']!.state).toBe('skipped'); // by `baton skip`, an update past the signals' limit
  });
});

describe('a server restart under a running phase', () => {
  it("says the attempt's heartbeats stopped reaching Temporal, not that its worker died, and the phase completes", async () => {
    const run = await orchestrator.start({ name: 'restarted', workdir: await tempDir(), phases: [fixturePhase(0, [], { sleep_ms: 8_000 }), fixturePhase(1, [0])] }, { heartbeat_timeout_s: 2 });
    await until(run, 'phase 0 running', (s) => s.phases['0']!.state === 'running' && s.phases['0']!.started_at !== null);
    await sleep(1_500);
    await stopServer();
    await sleep(4_000); // longer than the heartbeat timeout
    server = await startServer();
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    const notice = final.notices.find((n) => n.startsWith('phase 0: attempt 1 was interrupted'));
    expect(notice).toMatch(/^phase 0: attempt 1 was interrupted \(its heartbeats stopped reaching Temporal, though its worker \(\d+@\S+, this one\) kept running: the server restarted, or the connection dropped\), not failed; attempt 2 runs now/);
    expect(notice).not.toMatch(/died/);
    expect(final.phases['1']!.context!.context.value).toBe(2);
  });
});
