/**
 * A worker that takes a phase and then goes silent (died, or lost its network): Temporal times the
 * activity out on its heartbeat and the workflow sends the phase to another worker, up to
 * worker_loss_retries times, without counting it as the phase failing. A running activity holds the
 * test server's clock to real time, so the heartbeat timeout is short (2 s: long enough that a busy
 * machine does not time out the dispatches that do return at once) rather than skipped.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
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
  it('goes to another worker as another attempt of the same activity, and the run completes', async () => {
    // The first attempt of phase 1 never heartbeats and never returns: its worker is gone.
    h.stub({ runPhase: async (handoff) => (h.calls('runPhase').length === 1 ? h.hang().then(() => phaseResult(handoff)) : phaseResult(handoff)) });
    const wallStart = Date.now();
    const handle = await h.start(plan, { heartbeat_timeout_s: 2 });
    const result = await handle.result();

    expect(result.state).toBe('completed');
    // Temporal retries it: the same activity, attempt 2 (the worker's ledger, not tested here, keeps
    // the phase's own retries untouched; see activities/attempt-ledger.ts).
    expect(h.calls('runPhase').map((c) => [c.activityId, c.attempt])).toEqual([
      ['phase-1-g1-d1', 1],
      ['phase-1-g1-d1', 2],
      ['phase-2-g1-d1', 1],
    ]);
    const status = await h.status(handle);
    expect(status.phases['1']).toMatchObject({ state: 'completed', attempts: 2, generation: 1, executed_by: 'stub-worker' });
    expect(status.phases['2']).toMatchObject({ state: 'completed', attempts: 1 });
    expect(Date.now() - wallStart).toBeLessThan(30_000);
  });

  it('has worker_loss_retries attempts beyond its own retries: lost workers do not use up the phase\'s retries', async () => {
    // retries 1, worker_loss_retries 2: four attempts in all. Two workers are lost, one attempt fails, the last succeeds.
    h.stub({
      runPhase: async (handoff) => {
        const n = h.calls('runPhase').length;
        if (n <= 2) return h.hang().then(() => phaseResult(handoff));
        if (n === 3) throw ApplicationFailure.retryable('exited with code 1', 'PhaseCommandFailed');
        return phaseResult(handoff);
      },
    });
    const handle = await h.start({ ...plan, phases: [{ ...plan.phases[0]!, retries: 1 }, plan.phases[1]!] }, { heartbeat_timeout_s: 2, worker_loss_retries: 2 });
    const result = await handle.result();
    expect(result.state).toBe('completed');
    expect(h.calls('runPhase').filter((c) => c.activityId === 'phase-1-g1-d1').map((c) => c.attempt)).toEqual([1, 2, 3, 4]);
  });

  it('fails the phase, saying it did not fail itself, once its attempts were interrupted more than worker_loss_retries allows', async () => {
    h.stub({ runPhase: async (handoff) => h.hang().then(() => phaseResult(handoff)) });
    const handle = await h.start(plan, { heartbeat_timeout_s: 2, worker_loss_retries: 1, failed_phase_policy: 'fail' });
    const err: unknown = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);

    expect(h.calls('runPhase').map((c) => [c.activityId, c.attempt])).toEqual([['phase-1-g1-d1', 1], ['phase-1-g1-d1', 2]]);
    const status = await h.status(handle);
    expect(status.state).toBe('failed');
    expect(status.phases['1']).toMatchObject({ state: 'failed', attempts: 2 });
    expect(status.phases['1']!.error).toMatch(/^phase 1 \(build\) did not fail, but its attempts were interrupted more often than worker_loss_retries \(1\) allows; the last: .*heartbeat.*\. Check the workers of baton-default, then send retryPhase \{"phase": 1\}$/);
    expect(status.phases['2']!.state).toBe('pending');
  });
});
