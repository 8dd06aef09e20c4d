/**
 * What a run carries into the run it continues as: pure pieces, tested directly.
 */
import { describe, expect, it } from 'vitest';
import { buildHandoffPackage, forTransport, withPreviousContext } from '../../src/core/handoff/build.js';
import { compactPlan } from '../../src/core/plan/compact.js';
import type { PlanInput } from '../../src/core/plan/schema.js';
import { ContinuedSchema } from '../../src/core/api/run-input.js';
import { checkRun } from '../../src/core/plan/validate.js';
import { carry, restore } from '../../src/core/workflows/carry.js';
import { runStatus } from '../../src/core/workflows/projections.js';
import { RunBook } from '../../src/core/workflows/run-book.js';
import { boundedStatus, memoStatus } from '../../src/core/workflows/status-size.js';
import type { RunStatus } from '../../src/core/api/status.js';

const planInput: PlanInput = {
  name: 'carry',
  phases: [
    { id: 0, name: 'A', command: ['a'] },
    { id: 1, name: 'B', depends_on: [0], command: ['b'] },
    { id: 2, name: 'C', depends_on: [1], command: ['c'] },
    { id: 3, name: 'D', depends_on: [2], command: ['d'], transitive_context: true },
    { id: 4, name: 'E', command: ['e'], use_separate_agent: true },
  ],
};
const output = (value: number) => ({ context: { value }, artifacts: {} });
const done = (value: number) => ({ output: output(value), attempts: 1, executedBy: 'w', startedAt: 'a', finishedAt: 'b', contentHash: null, handoffPath: null, handoffFallback: null });

function book(): RunBook {
  const { plan, config } = checkRun(planInput, {});
  return new RunBook('run', plan, config, new Date(0));
}

describe('continue-as-new', () => {
  it('carries unfinished phases whole, archives finished ones, and leaves untouched ones out', () => {
    const first = book();
    for (const key of first.readyPhases()) first.phase(key).start(new Date(1));
    first.phase('0').complete(done(1));
    first.phase('4').awaitAgent({ since: 'x', deadline: '1970-01-02T00:00:00.000Z', package_hash: 'sha256:aa', handoff_path: '/h', script_path: '/s' });
    expect(first.readyPhases()).toEqual(['1']);
    first.phase('1').start(new Date(2));
    first.phase('1').complete(done(2));
    first.paused = true;
    first.notices.push('something happened');

    const { continued, archive } = carry(first);
    expect(ContinuedSchema.parse(continued)).toEqual(continued); // what the next run's input check accepts
    // 0's only dependant (1) finished: archived; 1 is still needed by 2.
    expect(Object.keys(archive)).toEqual(['0']);
    expect(archive['0']!.output).toEqual(output(1));
    expect(continued.archived).toEqual([['0', 'completed', 1, 1, 0]]);
    expect(Object.keys(continued.phases).sort()).toEqual(['1', '4']);
    expect(continued.segment).toBe(1);

    const { plan, config } = checkRun(compactPlan(checkRun(planInput, {}).plan), {});
    const next = new RunBook('run', plan, config, new Date(continued.started_at));
    restore(next, { ...continued, archives: ['archive/run/segment-1.json'] });
    expect(next.paused).toBe(true);
    expect(next.notices).toEqual(['something happened']);
    expect(next.record('0')).toMatchObject({ state: 'completed', attempts: 1, generation: 1, archived: true });
    expect(next.phase('0').status().archived).toBe(true);
    expect(next.record('4').state).toBe('awaiting_agent');
    expect(next.keysIn('awaiting_agent')).toEqual(['4']);
    expect(runStatus(next, null).continued).toEqual({ segment: 1, archives: ['archive/run/segment-1.json'] });
    // Work goes on where it stopped: 2 is ready and its package has 1's output, inline.
    expect(next.readyPhases()).toEqual(['2']);
    const pkg2 = next.phase('2').start(new Date(3));
    expect(pkg2.dependency_contexts['1']).toEqual(output(2));
    expect(pkg2.generation).toBe(1);
    next.phase('2').complete(done(3));
    // 3 reads every ancestor: 0's output was archived, so it must be read back first.
    expect(next.archivedInputs('3')).toEqual(['0']);
    next.restoreOutput('0', output(1));
    expect(next.archivedInputs('3')).toEqual([]);
    expect(next.phase('3').start(new Date(4)).dependency_contexts['0']).toEqual(output(1));
    // Completion order carries on from the earlier run (it decides from_phase).
    next.phase('3').complete(done(4));
    expect(next.record('3').completedSeq).toBe(3);
  });

  it('counts phases finished in this segment only', () => {
    const first = book();
    first.phase('0').start(new Date(1));
    first.phase('0').complete(done(1));
    expect(first.finishedThisSegment).toBe(1);
    const next = book();
    restore(next, carry(first).continued);
    expect(next.finishedThisSegment).toBe(0);
  });

  it('keeps overrides across the continue-as-new', () => {
    const first = book();
    first.phase('0').start(new Date(1));
    first.phase('0').fail('boom', 1, undefined, new Date(2));
    expect(first.retry('0', false)).toBeUndefined();
    expect(first.override('0', { phase: 0, timeout_s: 99, config: { level: 2 } })).toBeUndefined();
    const next = book();
    restore(next, carry(first).continued);
    expect(next.phasesByKey.get('0')).toMatchObject({ timeout_s: 99, config: { level: 2 } });
    expect(next.readyPhases()).toContain('0');
  });
});

describe('compactPlan', () => {
  it('leaves out defaults and parses back to the same plan', () => {
    const { plan } = checkRun(planInput, {});
    const compact = compactPlan(plan);
    expect(compact.phases[0]).toEqual({ id: 0, name: 'A', command: ['a'] });
    expect(checkRun(compact, {}).plan).toEqual(plan);
    expect(JSON.stringify(compact).length).toBeLessThan(JSON.stringify(plan).length / 2);
  });
});

describe('packages in transit', () => {
  it('leave previous_phase_context out of history and get it back on the worker', () => {
    const b = book();
    b.phase('0').start(new Date(1));
    b.phase('0').complete(done(7));
    const { plan, config } = checkRun(planInput, {});
    const full = buildHandoffPackage({
      executionId: 'run', plan, config, phase: plan.phases[1]!, phasesByKey: b.phasesByKey,
      progress: new Map([['0', { state: 'completed', attempts: 1, completedSeq: 0, output: output(7) }]]),
      generation: 1, now: new Date(2), separateAgent: false,
    });
    expect(full.previous_phase_context).toEqual(output(7));
    const sent = forTransport(full);
    expect(sent.previous_phase_context).toBeNull();
    expect(withPreviousContext(sent)).toEqual(full);
    // What the run book hands to activities is the transport form.
    expect(b.phase('1').start(new Date(2)).previous_phase_context).toBeNull();
    // A first phase has no previous context, and gets none.
    const root = b.packageFor(b.phase('0'), new Date(3));
    expect(withPreviousContext(root).previous_phase_context).toBeNull();
  });
});

describe('boundedStatus', () => {
  const status = (phases: number, contextBytes: number): RunStatus => ({
    execution_id: 'r', plan: 'p', workdir: '/w', handoffs_enabled: true, state: 'running', paused: false, started_at: 'a', finished_at: null, notices: [],
    phases: Object.fromEntries(Array.from({ length: phases }, (_, i) => [String(i), {
      id: i, name: `P${i}`, state: i === 0 ? 'running' : 'completed', attempts: 1, generation: 1, resource_class: 'default', task_queue: 'baton-default',
      scheduled_at: null, started_at: null, finished_at: null, depends_on: [], separate_agent: false,
      context: { context: { blob: 'x'.repeat(contextBytes) }, artifacts: {} },
    }])),
  });

  it('returns a small status as it is', () => {
    const s = status(3, 10);
    expect(boundedStatus(s)).toBe(s);
  });

  it('drops finished phases\' outputs first, then their entries, and says so', () => {
    const slimmed = boundedStatus(status(100, 20_000));
    expect(slimmed.phases['1']!.context).toBeUndefined();
    expect(Object.keys(slimmed.phases)).toHaveLength(100);
    const cut = boundedStatus(status(10_000, 0));
    expect(Object.keys(cut.phases)).toEqual(['0']);
    expect(cut.omitted_phases).toBe(9_999);
    expect(cut.notices.at(-1)).toContain('9999 completed or skipped phases are left out of this status');
    expect(JSON.stringify(cut).length).toBeLessThan(1024 * 1024);
    expect(memoStatus(status(2, 10)).phases['1']!.context).toBeUndefined();
  });
});
