import { describe, expect, it } from 'vitest';
import { buildHandoffPackage, type PhaseProgress } from '../../src/core/handoff/build.js';
import { HandoffPackageSchema, type PhaseContext } from '../../src/core/handoff/schema.js';
import { phaseKey } from '../../src/core/plan/schema.js';
import { checkRun } from '../../src/core/plan/validate.js';

const output = (n: number): PhaseContext => ({ context: { n }, artifacts: {} });

function setup(transitive = false) {
  const { plan, config } = checkRun({
    name: 'diamond',
    workdir: 'wd',
    global_context: { repo: '.' },
    shared_artifacts: { inventory: 'data/inventory.csv' },
    phases: [
      { id: 0, name: 'Zero', command: ['a'] },
      { id: 1, name: 'One', depends_on: [0], command: ['b'] },
      { id: 2, name: 'Two', depends_on: [0], command: ['c'] },
      { id: 3, name: 'Three', depends_on: [1, 2], command: ['d'], config: { depth: 3 }, transitive_context: transitive, resource_class: 'gpu' },
    ],
  });
  const phasesByKey = new Map(plan.phases.map((p) => [phaseKey(p.id), p]));
  const progress = new Map<string, PhaseProgress>([
    ['0', { state: 'completed', attempts: 1, completedSeq: 0, output: output(0) }],
    ['2', { state: 'completed', attempts: 2, completedSeq: 1, output: output(2) }],
    ['1', { state: 'completed', attempts: 1, completedSeq: 2, output: output(1) }],
    ['3', { state: 'ready', attempts: 0 }],
  ]);
  return { plan, config, phasesByKey, progress };
}

describe('buildHandoffPackage', () => {
  it('holds exactly the declared dependencies and is valid against the schema', () => {
    const { plan, config, phasesByKey, progress } = setup();
    const pkg = buildHandoffPackage({
      executionId: 'run-1',
      plan,
      config,
      phase: phasesByKey.get('3')!,
      phasesByKey,
      progress,
      generation: 1,
      separateAgent: false,
      now: new Date('2026-01-01T00:00:00Z'),
    });
    expect(HandoffPackageSchema.parse(pkg)).toEqual(pkg);
    expect(Object.keys(pkg.dependency_contexts).sort()).toEqual(['1', '2']);
    expect(pkg.dependency_contexts['1']).toEqual(output(1));
    expect(pkg.from_phase).toBe(1); // the dependency that completed last
    expect(pkg.previous_phase_context).toEqual(output(1));
    expect(pkg.phase_config).toEqual({ depth: 3 });
    expect(pkg.global_context).toEqual({ repo: '.' });
    expect(pkg.shared_artifacts).toEqual({ inventory: 'data/inventory.csv' });
    expect(pkg.state_summary['2']).toEqual({ name: 'Two', state: 'completed', attempts: 2 });
    expect(pkg.execution_instructions).toMatchObject({ task_queue: 'baton-gpu', command: ['d'], workdir: 'wd', mode: 'inline', save_handoff: true });
    expect(pkg.created_at).toBe('2026-01-01T00:00:00.000Z');
  });

  it('includes transitive dependencies when the phase asks', () => {
    const { plan, config, phasesByKey, progress } = setup(true);
    const pkg = buildHandoffPackage({ executionId: 'r', plan, config, phase: phasesByKey.get('3')!, phasesByKey, progress, generation: 1, now: new Date(0), separateAgent: false });
    expect(Object.keys(pkg.dependency_contexts).sort()).toEqual(['0', '1', '2']);
  });

  it('gives a first phase no previous phase', () => {
    const { plan, config, phasesByKey, progress } = setup();
    const pkg = buildHandoffPackage({ executionId: 'r', plan, config, phase: phasesByKey.get('0')!, phasesByKey, progress, generation: 1, now: new Date(0), separateAgent: false });
    expect(pkg.from_phase).toBeNull();
    expect(pkg.previous_phase_context).toBeNull();
    expect(pkg.dependency_contexts).toEqual({});
  });
});

describe('buildHandoffPackage for a separate agent', () => {
  it('says so, and tells the agent how to report back', () => {
    const { plan, config, phasesByKey, progress } = setup();
    const pkg = buildHandoffPackage({ executionId: 'run-9', plan, config, phase: phasesByKey.get('3')!, phasesByKey, progress, generation: 2, now: new Date(0), separateAgent: true });
    expect(pkg.execution_instructions.mode).toBe('separate_agent');
    expect(pkg.execution_instructions.report).toContain('completePhase');
    expect(pkg.execution_instructions.report).toContain('baton submit result.json');
  });

  it("carries the phase's output_schema, so the agent need not read the run's input; a worker's package does not", () => {
    const outputSchema = { type: 'object', required: ['report_path'] };
    const { plan, config, progress } = setup();
    const phases = plan.phases.map((p) => (p.id === 3 ? { ...p, output_schema: outputSchema } : p));
    const phasesByKey = new Map(phases.map((p) => [phaseKey(p.id), p]));
    const build = (separateAgent: boolean) => buildHandoffPackage({ executionId: 'r', plan: { ...plan, phases }, config, phase: phasesByKey.get('3')!, phasesByKey, progress, generation: 1, now: new Date(0), separateAgent });
    const forAgent = build(true);
    expect(forAgent.output_schema).toEqual(outputSchema);
    expect(HandoffPackageSchema.parse(forAgent)).toEqual(forAgent);
    // Workers' packages stay as they were, so phase workers of the version before still read them.
    expect('output_schema' in build(false)).toBe(false);
    const none = buildHandoffPackage({ executionId: 'r', plan, config, phase: phasesByKey.get('2')!, phasesByKey, progress, generation: 1, now: new Date(0), separateAgent: true });
    expect('output_schema' in none).toBe(false);
  });
});

describe('buildHandoffPackage for a large plan', () => {
  it('lists only the phase\'s dependencies in state_summary, and counts the rest', () => {
    const phases = Array.from({ length: 300 }, (_, i) => ({ id: i, name: `P${i}`, command: ['x'], depends_on: i === 0 ? [] : [i - 1] }));
    const { plan, config } = checkRun({ name: 'big', phases });
    const phasesByKey = new Map(plan.phases.map((p) => [phaseKey(p.id), p]));
    const progress = new Map<string, PhaseProgress>(plan.phases.map((p) => [phaseKey(p.id), { state: p.id === 0 ? 'completed' : 'pending', attempts: p.id === 0 ? 1 : 0, ...(p.id === 0 ? { completedSeq: 0, output: output(0) } : {}) }]));
    const pkg = buildHandoffPackage({ executionId: 'r', plan, config, phase: phasesByKey.get('1')!, phasesByKey, progress, generation: 1, now: new Date(0), separateAgent: false });
    expect(Object.keys(pkg.state_summary)).toEqual(['0']);
    expect(pkg.run_summary).toEqual({ phases: 300, by_state: { completed: 1, pending: 299 } });
    expect(JSON.stringify(pkg).length).toBeLessThan(3000);
  });
});
