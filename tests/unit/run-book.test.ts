import { describe, expect, it } from 'vitest';
import { checkRun } from '../../src/core/plan/validate.js';
import { runStatus } from '../../src/core/workflows/projections.js';
import { RunBook } from '../../src/core/workflows/run-book.js';

function book(policy: 'hold' | 'fail' = 'hold') {
  const { plan, config } = checkRun(
    {
      name: 'b',
      phases: [
        { id: 0, name: 'A', command: ['a'] },
        { id: 1, name: 'B', depends_on: [0], command: ['b'] },
        { id: 2, name: 'C', depends_on: [1], command: ['c'] },
      ],
    },
    { failed_phase_policy: policy },
  );
  return new RunBook('run', plan, config, new Date(0));
}

const done = { output: { context: {}, artifacts: {} }, attempts: 1, executedBy: 'w', startedAt: 'a', finishedAt: 'b', contentHash: null, handoffPath: null, handoffFallback: null };

describe('RunBook', () => {
  it('releases phases as their dependencies complete', () => {
    const b = book();
    expect(b.readyPhases()).toEqual(['0']);
    b.phase('0').start(new Date(1));
    expect(b.readyPhases()).toEqual([]);
    b.phase('0').complete(done);
    expect(b.readyPhases()).toEqual(['1']);
  });

  it('holds when a phase fails and nothing else can move, and names the fix', () => {
    const b = book();
    b.phase('0').start(new Date(1));
    b.phase('0').fail('boom', 3, 'w', new Date(2));
    expect(b.runState()).toBe('held');
    expect(runStatus(b, null).held_reason).toBe('phase 0 (A) failed: boom. Send retryPhase {"phase": 0} to run it again, or skipPhase to move on.');
    expect(b.record('0').attempts).toBe(3);
  });

  it('fails the run under the fail policy', () => {
    const b = book('fail');
    b.phase('0').start(new Date(1));
    b.phase('0').fail('boom', 1, 'w', new Date(2));
    expect(b.runState()).toBe('failed');
  });

  it('retries a failed phase as a new generation', () => {
    const b = book();
    b.phase('0').start(new Date(1));
    b.phase('0').fail('boom', 1, 'w', new Date(2));
    expect(b.retry('0', false)).toBeUndefined();
    expect(b.readyPhases()).toEqual(['0']);
    const pkg = b.phase('0').start(new Date(3));
    expect(pkg.generation).toBe(2);
  });

  it('re-runs downstream phases when asked', () => {
    const b = book();
    for (const k of ['0', '1', '2']) {
      b.readyPhases();
      b.phase(k).start(new Date(1));
      b.phase(k).complete(done);
    }
    expect(b.runState()).toBe('completed');
    b.retry('1', true);
    expect([b.record('0').state, b.record('1').state, b.record('2').state]).toEqual(['completed', 'pending', 'pending']);
  });

  it('refuses bad retry and skip requests with a notice', () => {
    const b = book();
    expect(b.retry('9', false)).toBe('retryPhase: the plan has no phase 9; phases are 0, 1, 2');
    expect(b.retry('0', false)).toBe('retryPhase: phase 0 is pending; only a failed, completed or skipped phase can be retried');
    b.phase('0').start(new Date(1));
    b.phase('0').complete(done);
    expect(b.skip('0')).toBe('skipPhase: phase 0 is completed; only a pending, ready or failed phase can be skipped');
  });

  it('lets the dependants of a skipped phase run', () => {
    const b = book();
    b.phase('0').start(new Date(1));
    b.phase('0').fail('boom', 1, 'w', new Date(2));
    expect(b.skip('0')).toBeUndefined();
    expect(b.readyPhases()).toEqual(['1']);
  });
});
