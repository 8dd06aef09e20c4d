/**
 * A worker that takes a phase and then goes silent (died, or lost its network): Temporal times the
 * activity out on its heartbeat and the workflow sends the phase to another worker, up to
 * worker_loss_retries times, without counting it as the phase failing. A running activity holds the
 * test server's clock to real time, so the heartbeat timeout is short (2 s: long enough that a busy
 * machine does not time out the dispatches that do return at once) rather than skipped.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { phaseResult, useHarness } from './harness.js';

const h = useHarness();

const plan = {
  name: 'lost-worker',
  phases: [
    { id: 1, name: 'build', handler: 'build' },
    { id: 2, name: 'test', handler: 'test', depends_on: [1] },
  ],
};

describe('a phase whose worker stops heartbeating', () => {
  it('goes to another worker, and the run completes with the lost dispatch counted', async () => {
    // The first dispatch of phase 1 never heartbeats and never returns: its worker is gone.
    h.stub({ runPhase: async (handoff) => (h.calls('runPhase').length === 1 ? h.hang().then(() => phaseResult(handoff)) : phaseResult(handoff)) });
    const wallStart = Date.now();
    const handle = await h.start(plan, { heartbeat_timeout_s: 2 });
    const result = await handle.result();

    expect(result.state).toBe('completed');
    expect(h.calls('runPhase').map((c) => [c.activityId, c.attempt])).toEqual([
      ['phase-1-g1-d1', 1],
      ['phase-1-g1-d2', 1],
      ['phase-2-g1-d1', 1],
    ]);
    const status = await h.status(handle);
    expect(status.notices).toEqual([
      'phase 1 lost its worker (no heartbeat for 2s); sending it to another worker (1 of 3)',
    ]);
    // The lost dispatch and the one that succeeded; a retry of the phase itself was never spent.
    expect(status.phases['1']).toMatchObject({ state: 'completed', attempts: 2, generation: 1, executed_by: 'stub-worker' });
    expect(status.phases['2']).toMatchObject({ state: 'completed', attempts: 1 });
    expect(Date.now() - wallStart).toBeLessThan(30_000);
  });

  it('fails the phase once its worker was lost more than worker_loss_retries times', async () => {
    h.stub({ runPhase: async (handoff) => h.hang().then(() => phaseResult(handoff)) });
    const handle = await h.start(plan, { heartbeat_timeout_s: 2, worker_loss_retries: 1, failed_phase_policy: 'fail' });
    const err: unknown = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);

    expect(h.calls('runPhase').map((c) => c.activityId)).toEqual(['phase-1-g1-d1', 'phase-1-g1-d2']);
    const status = await h.status(handle);
    expect(status.state).toBe('failed');
    expect(status.notices).toEqual(['phase 1 lost its worker (no heartbeat for 2s); sending it to another worker (1 of 1)']);
    expect(status.phases['1']).toMatchObject({ state: 'failed', attempts: 2 });
    // The phase's error is the timeout's message: the test server's TimeoutFailure has none (so
    // the error is empty here); a real server says "activity Heartbeat timeout".
    expect(status.phases['1']).toHaveProperty('error');
    expect(status.phases['2']!.state).toBe('pending');
  });
});
