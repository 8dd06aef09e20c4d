/**
 * A phase handed to an external agent that never reports: the default agent_timeout_s is 7 days,
 * a durable timer the test server skips over, so each case takes seconds of wall time.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { HandoffPackage } from '../../src/core/handoff/schema.js';
import type { RunStatus } from '../../src/core/api/status.js';
import { useHarness, waitForStatus } from './harness.js';

const h = useHarness();
const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;

const plan = (onTimeout?: 'inline' | 'fail') => ({
  name: 'agent-timeout',
  phases: [{ id: 1, name: 'review', handler: 'review', use_separate_agent: true, ...(onTimeout ? { on_agent_timeout: onTimeout } : {}) }],
});

describe('a phase whose agent never reports (agent_timeout_s: 7 days by default)', () => {
  it('fails after 7 days of workflow time with on_agent_timeout: fail', async () => {
    h.stub({});
    const wallStart = Date.now();
    const handle = await h.start(plan('fail'), { failed_phase_policy: 'fail' });

    const waiting = await waitForStatus(h, handle, (s) => s.phases['1']?.state === 'awaiting_agent');
    const awaiting = waiting.phases['1']!.awaiting!;
    expect(Date.parse(awaiting.deadline!) - Date.parse(awaiting.since)).toBe(SEVEN_DAYS_MS);
    expect(awaiting.handoff_path).toBe('/nonexistent/handoffs/phase_1.json');

    // Awaiting the result lets the server skip to the 7-day timer.
    const err: unknown = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('PhaseFailed');
    expect(cause!.message).toContain('no agent reported phase 1 within 604800s (on_agent_timeout: fail)');

    const status = await h.status(handle);
    expect(status.state).toBe('failed');
    expect(status.phases['1']).toMatchObject({ state: 'failed', attempts: 1, generation: 1 });
    expect(status.phases['1']!.error).toMatch(/^no agent reported phase 1 within 604800s \(on_agent_timeout: fail\); send retryPhase/);
    expect(Date.parse(status.phases['1']!.finished_at!) - Date.parse(awaiting.since)).toBeGreaterThanOrEqual(SEVEN_DAYS_MS);

    expect(h.calls('handOffToAgent')).toHaveLength(1);
    expect(h.calls('runPhase')).toEqual([]);
    expect(Date.now() - wallStart).toBeLessThan(30_000);
  });

  it('runs on a worker after 7 days with on_agent_timeout: inline, and says so in agent_fallback', async () => {
    h.stub({});
    const wallStart = Date.now();
    const handle = await h.start(plan('inline'));
    const result: RunStatus = await handle.result();

    expect(result.state).toBe('completed');
    const phase = result.phases['1']!;
    expect(phase).toMatchObject({ state: 'completed', executed_by: 'stub-worker', context: { context: { phase: 1 } } });
    expect(phase.agent_fallback).toBe(
      'no agent reported phase 1 within 604800s; a worker on baton-default ran it instead (on_agent_timeout: inline)',
    );
    // Workflow time: the worker took the phase 7 days after the run started (its own started_at and
    // finished_at are the stub worker's clock, which the test server does not move).
    expect(Date.parse(phase.scheduled_at!) - Date.parse(result.started_at)).toBeGreaterThanOrEqual(SEVEN_DAYS_MS);

    // Handed to the agent once; then a new generation of the phase ran on the worker, inline.
    const [handed] = h.calls('handOffToAgent');
    expect((handed!.args[0] as HandoffPackage).execution_instructions.mode).toBe('separate_agent');
    const ran = h.calls('runPhase');
    expect(ran.map((c) => c.activityId)).toEqual(['phase-1-g2-d1']);
    expect((ran[0]!.args[0] as HandoffPackage).execution_instructions.mode).toBe('inline');

    // The status query tells the same after the run closed.
    expect((await h.status(handle)).phases['1']!.agent_fallback).toBe(phase.agent_fallback);
    expect(Date.now() - wallStart).toBeLessThan(30_000);
  });
});
