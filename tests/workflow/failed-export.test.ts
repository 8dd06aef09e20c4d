/**
 * execution_context.json is a convenience copy of the status: when the orchestrator cannot write
 * it, the run goes on and says so in its notices.
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { useHarness } from './harness.js';

const h = useHarness();

const plan = {
  name: 'failed-export',
  phases: [
    { id: 1, name: 'extract', handler: 'extract' },
    { id: 2, name: 'load', handler: 'load', depends_on: [1] },
  ],
};

describe('an export of execution_context.json that fails', () => {
  it('does not stop the run, and the status says the file could not be written', async () => {
    h.stub({
      // The exports while phases run (an activity, retried by the server: its backoffs are skipped).
      exportExecutionContext: async () => {
        throw new Error('ENOSPC: no space left on device, open .baton/failed-export/execution_context.json');
      },
      // The final export (a local activity: its retries would wait in real time, so it gives up at once).
      writeExecutionContext: async () => {
        throw ApplicationFailure.nonRetryable('EACCES: permission denied, open .baton/failed-export/execution_context.json');
      },
    });
    const handle = await h.start(plan);
    const result = await handle.result();

    expect(result.state).toBe('completed');
    expect(result.phases['1']!.state).toBe('completed');
    expect(result.phases['2']!.state).toBe('completed');
    expect(h.calls('runPhase').map((c) => c.activityId)).toEqual(['phase-1-g1-d1', 'phase-2-g1-d1']);

    // Every attempt the retry policy allows (3), then the notice.
    const exports = h.calls('exportExecutionContext');
    expect(exports.length).toBeGreaterThanOrEqual(3);
    expect(exports.slice(0, 3).map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(h.calls('writeExecutionContext')).toHaveLength(1);

    // Through the status query: the result is the status as it was before the final export ran, so
    // it does not carry these notices (nor does the memo).
    const status = await h.status(handle);
    expect(status.state).toBe('completed');
    expect(status.notices).toContain('could not write execution_context.json: ENOSPC: no space left on device, open .baton/failed-export/execution_context.json');
    expect(status.notices).toContain('could not write execution_context.json: EACCES: permission denied, open .baton/failed-export/execution_context.json');
    expect(status.notices.every((n) => n.startsWith('could not write execution_context.json: '))).toBe(true);
  });
});
