/**
 * Temporal's own controls on a running phase, and the infrastructure under it: each does to a
 * Baton phase what it does to any activity, and none turns a healthy phase into a failed one,
 * spends its retries, or holds the run. Real dev server, real worker processes.
 */
import { describe, expect, it } from 'vitest';
import { Orchestrator } from '../../src/client/orchestrator.js';
import { fixturePhase, tempDir, temporal, testClient, until, workersPerTest } from '../support/baton.js';

const startWorkerForTest = workersPerTest();
const worker = (name: string, args: string[], env: NodeJS.ProcessEnv = {}) => startWorkerForTest(args, { BATON_WORKER_NAME: name, ...env });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const config = { heartbeat_timeout_s: 3 };

/** The phase's activity as the server sees it (pending activities of the run). */
async function pendingActivity(runId: string, activityId: string): Promise<Record<string, unknown> | undefined> {
  const client = await testClient();
  const described = await client.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: runId } });
  const found = described.pendingActivities?.find((a) => a.activityId === activityId);
  return found ? { state: found.state, attempt: found.attempt, paused: found.paused } : undefined;
}

describe("Temporal's activity controls on a running phase", () => {
  it('Pause stops the phase without failing it; Unpause runs it again, and the run completes', async () => {
    await worker('both', []);
    const run = await new Orchestrator(await testClient()).start({ name: 'paused', workdir: await tempDir(), phases: [fixturePhase(0, [], { sleep_ms: 8000 }), fixturePhase(1, [0])] }, config);
    await until(run, 'phase 0 to run', (s) => s.phases['0']!.state === 'running');
    await sleep(500);
    await temporal(['activity', 'pause', '--workflow-id', run.runId, '--activity-id', 'phase-0-g1-d1', '--reason', 'checking the database']);
    // The attempt stops at its next heartbeat; Temporal holds the activity, paused, and the phase is not failed.
    for (let i = 0; i < 40 && (await pendingActivity(run.runId, 'phase-0-g1-d1'))?.attempt !== 2; i++) await sleep(250);
    expect(await pendingActivity(run.runId, 'phase-0-g1-d1')).toMatchObject({ paused: true, attempt: 2 });
    await sleep(1500);
    const held = await run.status();
    expect(held.phases['0']!.state).toBe('running');
    expect(held.state).toBe('running');
    await temporal(['activity', 'unpause', '--workflow-id', run.runId, '--activity-id', 'phase-0-g1-d1']);
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['0']!.context!.context.attempt).toBe(2);
    expect(final.notices.some((n) => n.startsWith('phase 0: attempt 1 was interrupted (paused by an operator), not failed; attempt 2 runs now'))).toBe(true);
  });

  it('Pause of a phase between retries holds it there; Unpause lets it go on, and its retries are still its own', async () => {
    await worker('both', []);
    // Fails attempts 1-3 (backoffs 1, 2, 4 s), succeeds on 4: retries 3 is exactly enough.
    const run = await new Orchestrator(await testClient()).start({ name: 'backoff', workdir: await tempDir(), phases: [fixturePhase(0, [], { fail_until_attempt: 4 }, { retries: 3 })] }, config);
    for (let i = 0; i < 80 && (await pendingActivity(run.runId, 'phase-0-g1-d1'))?.attempt !== 4; i++) await sleep(100);
    await temporal(['activity', 'pause', '--workflow-id', run.runId, '--activity-id', 'phase-0-g1-d1']);
    await sleep(6000); // past the backoff: paused, nothing runs
    expect(await pendingActivity(run.runId, 'phase-0-g1-d1')).toMatchObject({ paused: true, attempt: 4 });
    expect((await run.status()).phases['0']!.state).toBe('running');
    await temporal(['activity', 'unpause', '--workflow-id', run.runId, '--activity-id', 'phase-0-g1-d1']);
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['0']!.attempts).toBe(4);
  });

  it('Reset starts a running phase afresh, even with no retries, and it completes', async () => {
    await worker('both', []);
    const run = await new Orchestrator(await testClient()).start({ name: 'reset', workdir: await tempDir(), phases: [fixturePhase(0, [], { sleep_ms: 5000 })] }, config);
    await until(run, 'phase 0 to run', (s) => s.phases['0']!.state === 'running');
    await sleep(500);
    await temporal(['activity', 'reset', '--workflow-id', run.runId, '--activity-id', 'phase-0-g1-d1']);
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['0']!.context!.context.attempt).toBeGreaterThan(1);
  });

  it('Update Options of a running phase takes effect: a longer timeout lets it finish', async () => {
    await worker('both', []);
    const run = await new Orchestrator(await testClient()).start({ name: 'longer', workdir: await tempDir(), phases: [fixturePhase(0, [], { sleep_ms: 6000 }, { timeout_s: 4 })] }, config);
    await until(run, 'phase 0 to run', (s) => s.phases['0']!.state === 'running');
    await temporal(['activity', 'update-options', '--workflow-id', run.runId, '--activity-id', 'phase-0-g1-d1', '--start-to-close-timeout', '60s']);
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['0']!.attempts).toBe(1);
  });
});

describe('the infrastructure under a phase', () => {
  it('a worker stopped (SIGTERM) before its phase finishes within --grace hands it to another worker, without spending a retry', async () => {
    await worker('orchestrator', ['--orchestrator']);
    const leaving = await worker('leaving', ['--class', 'default', '--grace', '1']);
    const run = await new Orchestrator(await testClient()).start({ name: 'drained', workdir: await tempDir(), phases: [fixturePhase(0, [], { sleep_ms: 6000 })] }, config);
    await until(run, 'phase 0 to run on the leaving worker', (s) => s.phases['0']!.state === 'running');
    await sleep(1000);
    await worker('staying', ['--class', 'default']);
    await leaving.stop('SIGTERM');
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['0']!.executed_by).toBe('staying');
    expect(final.notices.some((n) => /^phase 0: attempt 1 was interrupted \(its worker shut down\), not failed; attempt 2 runs now/.test(n))).toBe(true);
  });

  it('a worker without the run\'s workdir hands each phase to one that has it, then stops taking work and says why', async () => {
    const workdir = await tempDir();
    await worker('orchestrator', ['--orchestrator']);
    // A machine that shares nothing with the others: a private mount namespace, an empty tmpfs over the workdir's parent.
    const blind = await worker('blind', ['--class', 'default', '--concurrency', '1'], { BATON_TEST_PRIVATE_DIR: workdir });
    const sighted = await worker('sighted', ['--class', 'default', '--concurrency', '1']);
    const run = await new Orchestrator(await testClient()).start(
      { name: 'mounts', workdir, phases: [1, 2, 3, 4, 5, 6].map((i) => fixturePhase(i, [], { sleep_ms: 300 })) },
      { ...config, max_parallel_phases: 6 },
    );
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    for (const phase of Object.values(final.phases)) expect(phase.executed_by).toBe('sighted');
    expect(blind.output()).toMatch(/stopped taking phases from baton-default: 3 phases in a row could not run here; the last: phase \d \(Phase \d\) cannot run here: the run's workdir \S+ on this worker \([^)]*\) is not the run's/);
    expect(sighted.output()).not.toContain('stopped taking phases');
  });
});
