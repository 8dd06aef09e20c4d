/**
 * The truth about workers and phases, from Temporal itself, with real worker processes: `baton
 * queues` counts workers by their heartbeats (a killed one drops out in seconds, a busy one that
 * does not poll stays), and the run's watch reports a phase waiting for workers, paused in
 * Temporal, retrying or with changed settings, in `baton status`, `baton run`'s progress and the
 * Web UI's details, within seconds.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Orchestrator } from '../../src/client/orchestrator.js';
import type { QueueReport } from '../../src/client/queues.js';
import type { RunStatus } from '../../src/core/api/status.js';
import { baton, tempDir, temporal, testClient, until, writeJson, type WorkerProcess, workersPerTest } from '../support/baton.js';

const worker = workersPerTest();

/** Temporal's identity for a worker process (the SDK's default: pid@host). */
const identity = (w: WorkerProcess): string => `${w.proc.pid}@${os.hostname()}`;

async function queue(name: string): Promise<QueueReport> {
  const out = await baton(['queues', '--class', name, '--json']);
  return (JSON.parse(out.stdout) as QueueReport[]).find((r) => r.task_queue === `baton-${name}`)!;
}

/** Polls `baton queues --json` until `test` holds; returns the report and how long it took. */
async function queueUntil(name: string, test: (r: QueueReport) => boolean, timeoutMs: number): Promise<{ report: QueueReport; ms: number }> {
  const start = Date.now();
  for (;;) {
    const report = await queue(name);
    if (test(report)) return { report, ms: Date.now() - start };
    if (Date.now() - start > timeoutMs) throw new Error(`baton-${name} did not get there in ${timeoutMs} ms: ${JSON.stringify(report)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function details(runId: string): Promise<string> {
  const client = await testClient();
  const meta = await client.workflow.getHandle(runId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  // As the UI shows it: the Markdown's escapes (names and messages are text, never Markdown) resolved.
  return (meta.currentDetails ?? '').replace(/\\([!-/:-@[-`{-~])/g, '$1');
}

describe('workers, from their heartbeats', () => {
  it('counts a worker busy on a long phase (it does not poll) and stops counting one killed with SIGKILL within seconds', async () => {
    // A class of its own: workers of other test files, killed moments ago, are not on its queue.
    const workdir = await tempDir();
    const config = { resource_classes: { default: { concurrency: 4 }, watched: { concurrency: 1 } } };
    const configFile = await writeJson(path.join(workdir, 'config.json'), config);
    await worker(['--orchestrator']);
    const busy = await worker(['--class', 'watched', '--concurrency', '1', '--config', configFile]);
    const run = await new Orchestrator(await testClient()).start({ name: 'busy', workdir, phases: [{ id: 0, name: 'Long', resource_class: 'watched', command: ['sleep', '100'] }] }, config);
    await until(run, 'the phase to run', (s) => s.phases['0']!.state === 'running');

    const { report: counted } = await queueUntil('watched', (r) => r.busy_workers === 1, 20_000);
    expect(counted.workers).toEqual([identity(busy)]);
    expect(counted.workers_from).toBe('worker heartbeats');
    expect(counted.worker_records[0]).toMatchObject({ identity: identity(busy), status: 'running', live: true, slots_used: 1, slots_free: 0, source: 'worker heartbeat' });
    const busySince = Date.now();

    const victim = await worker(['--class', 'watched', '--config', configFile]);
    // Counted from its first poll; killed once the server has its record (a worker killed before its
    // first heartbeat, 5 s after it starts, is only a poller, which counts for 90 s).
    await queueUntil('watched', (r) => r.worker_records.some((w) => w.identity === identity(victim) && w.source === 'worker heartbeat'), 20_000);
    await victim.stop('SIGKILL');
    const { report: after, ms } = await queueUntil('watched', (r) => !r.workers.includes(identity(victim)), 30_000);
    console.log(`a worker killed with SIGKILL stopped counting after ${(ms / 1000).toFixed(1)} s`);
    expect(ms).toBeLessThan(15_000);
    expect(after.workers).toEqual([identity(busy)]);
    expect(after.worker_records.find((w) => w.identity === identity(victim))).toMatchObject({ status: 'gone', live: false });
    const plain = await baton(['queues', '--class', 'watched']);
    expect(plain.stdout).toContain(`${identity(victim)} gone (no heartbeat for`);
    expect(plain.stdout).toContain(`${identity(busy)} busy (1/1 slots)`);

    // Past the minute and a half after which a worker that stopped polling used to drop out.
    await new Promise((r) => setTimeout(r, Math.max(0, 92_000 - (Date.now() - busySince))));
    const later = await queue('watched');
    expect(later.workers).toEqual([identity(busy)]);
    expect(later.busy_workers).toBe(1);
    expect((await run.status()).phases['0']!.state).toBe('running');
  }, 180_000);
});

describe("the run's watch on its phases", () => {
  it('shows a gpu phase waiting for workers in baton status, the details and baton run, and clears it within seconds of a gpu worker starting', async () => {
    await worker(['--orchestrator']);
    const dir = await tempDir();
    const planFile = await writeJson(path.join(dir, 'plan.json'), { name: 'wants-gpu', workdir: 'wd', phases: [{ id: 'train', resource_class: 'gpu', command: ['sh', '-c', 'sleep 15'] }] });
    const runId = `wants-gpu-${Date.now()}`;
    const cli = baton(['run', planFile, '--id', runId]);
    const run = new Orchestrator(await testClient()).run(runId);
    for (let i = 0; i < 100 && !(await run.workflow.describe().then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 200));

    const waiting = await until(run, 'the watch to see the phase waiting', (s) => s.phases.train?.waiting_for_workers !== undefined, 20_000);
    expect(waiting.phases.train!.waiting_for_workers).toBe('no worker polls baton-gpu: start `baton worker --class gpu`');
    const status = await baton(['status', runId]);
    expect(status.stdout).toMatch(/train +train +running \(waiting for workers\)/);
    expect(status.stdout).toContain('phase train waits for workers: no worker polls baton-gpu: start `baton worker --class gpu`');
    expect(await details(runId)).toContain('Phase train waits for workers: no worker polls baton-gpu: start `baton worker --class gpu`.');

    await worker(['--class', 'gpu']);
    const serving = Date.now();
    // Cleared by the watch while the phase runs (it takes longer than that).
    const cleared = await until(run, 'the waiting to clear', (s) => s.phases.train!.waiting_for_workers === undefined, 20_000);
    expect(cleared.phases.train!.state).toBe('running');
    const ms = Date.now() - serving;
    console.log(`waiting_for_workers cleared ${(ms / 1000).toFixed(1)} s after the gpu worker started serving`);
    expect(ms).toBeLessThan(10_000);

    const done = await cli;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('phase train (train) waits for workers: no worker polls baton-gpu: start `baton worker --class gpu`');
    expect(done.stdout).toContain('phase train (train) no longer waits for workers');
  });

  it('shows a phase paused in Temporal between retries, its attempt and changed settings, within seconds, and carries on once unpaused', async () => {
    await worker(['--orchestrator']);
    await worker(['--class', 'default']);
    const workdir = await tempDir();
    const ok = path.join(workdir, 'ok');
    const run = await new Orchestrator(await testClient()).start({
      name: 'paused-retries',
      workdir,
      phases: [{ id: 'flaky', name: 'Flaky', retries: 8, command: ['sh', '-c', `test -f ${ok} || { echo not yet >&2; exit 1; }`] }],
    });
    // Backing off before a later attempt (the waits double: 1, 2, 4, 8 s): nothing runs, so a pause cancels nothing.
    const backingOff = await until(
      run,
      'a retry a few seconds off',
      (s) => {
        const a = s.phases.flaky!.activity;
        return a !== undefined && a.attempt >= 3 && a.next_attempt_at !== undefined && Date.parse(a.next_attempt_at) - Date.now() > 3_000;
      },
      60_000,
    );
    const activityId = backingOff.phases.flaky!.activity!.id;
    expect(activityId).toBe('phase-flaky-g1-d1');
    expect(backingOff.phases.flaky!.activity!.last_failure).toMatch(/^phase flaky \(Flaky\) exited with code 1: not yet/);

    const pausedAt = Date.now();
    await temporal(['activity', 'pause', '--workflow-id', run.runId, '--activity-id', activityId, '--identity', 'tester', '--reason', 'disk full']);
    const paused = await until(run, 'the pause to show', (s) => s.phases.flaky!.activity?.paused !== undefined, 20_000);
    const pauseMs = Date.now() - pausedAt;
    console.log(`the pause showed in baton status after ${(pauseMs / 1000).toFixed(1)} s`);
    expect(pauseMs).toBeLessThan(10_000);
    const flaky = paused.phases.flaky!;
    expect(flaky.state).toBe('running');
    expect(flaky.activity).toMatchObject({ state: 'paused', maximum_attempts: 12, paused: { by: 'tester', reason: 'disk full' } });
    expect(flaky.attempts).toBe(flaky.activity!.attempt - 1); // attempts Temporal has begun, not 0
    expect(flaky.attempts).toBeGreaterThanOrEqual(2);
    const table = await baton(['status', run.runId]);
    expect(table.stdout).toMatch(/flaky +Flaky +running \(paused in Temporal\)/);
    expect(table.stdout).toContain(`phase flaky is paused in Temporal (by tester, "disk full")`);
    expect(table.stdout).toContain(`temporal activity unpause --workflow-id ${run.runId} --activity-id ${activityId}`);
    expect(await details(run.runId)).toContain('Phase flaky is paused in Temporal (by tester, "disk full")');

    const changedAt = Date.now();
    await temporal(['activity', 'update-options', '--workflow-id', run.runId, '--activity-id', activityId, '--start-to-close-timeout', '2h']);
    const changed = await until(run, 'the new settings to show', (s) => s.phases.flaky!.activity?.changed !== undefined, 20_000);
    console.log(`update-options showed in baton status after ${((Date.now() - changedAt) / 1000).toFixed(1)} s`);
    expect(changed.phases.flaky!.activity).toMatchObject({ changed: ['start_to_close_timeout_s'], settings: { start_to_close_timeout_s: 7200, task_queue: 'baton-default' } });
    expect((await baton(['status', run.runId])).stdout).toContain('phase flaky runs with settings changed in Temporal: start_to_close_timeout_s 7200');

    const unpausedAt = Date.now();
    await temporal(['activity', 'unpause', '--workflow-id', run.runId, '--activity-id', activityId]);
    await until(run, 'the pause to clear', (s) => s.phases.flaky!.activity?.paused === undefined, 20_000);
    const unpauseMs = Date.now() - unpausedAt;
    console.log(`the unpause showed in baton status after ${(unpauseMs / 1000).toFixed(1)} s`);
    expect(unpauseMs).toBeLessThan(10_000);

    await writeFile(ok, '');
    const final: RunStatus = await run.finalStatus();
    expect(final.phases.flaky).toMatchObject({ state: 'completed' });
    expect(final.phases.flaky!.activity).toBeUndefined();
    expect(final.phases.flaky!.attempts).toBeGreaterThan(flaky.attempts);
  });
});
