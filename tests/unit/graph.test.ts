import { describe, expect, it } from 'vitest';
import { checkRun } from '../../src/core/plan/validate.js';
import { findCycle } from '../../src/core/plan/graph.js';
import { PlanSchema, type PhaseInput } from '../../src/core/plan/schema.js';
import { problemsOf } from '../support/plan-problems.js';

const phase = (id: number | string, depends_on: Array<number | string> = [], extra: Partial<PhaseInput> = {}): PhaseInput => ({
  id,
  name: `P${id}`,
  depends_on,
  command: ['true'],
  ...extra,
});


describe('plan checks', () => {
  it('accepts a valid diamond and fills in defaults', () => {
    const { plan, config } = checkRun({ name: 'd', phases: [phase(0), phase(1, [0]), phase(2, [0]), phase(3, [1, 2])] });
    expect(plan.phases[0]!.resource_class).toBe('default');
    expect(plan.global_context).toEqual({});
    expect(config.failed_phase_policy).toBe('hold');
    expect(Object.keys(config.resource_classes)).toEqual(['default', 'gpu']);
  });

  it('prints a cycle with the phases in it', () => {
    const problems = problemsOf({ name: 'c', phases: [phase(1), phase(3, [5]), phase(5, [3])] });
    expect(problems).toEqual(['the plan has a dependency cycle: 3 -> 5 -> 3; remove one of these dependencies']);
  });

  it('finds a longer cycle among string ids', () => {
    const plan = PlanSchema.parse({ name: 'c', phases: [phase('a', ['c']), phase('b', ['a']), phase('c', ['b']), phase('d', ['a'])] });
    expect(findCycle(plan.phases)).toEqual(['a', 'c', 'b', 'a']);
  });

  it('names an unknown dependency', () => {
    expect(problemsOf({ name: 'u', phases: [phase(7, [12])] })).toEqual(['phase 7 depends on 12, which the plan does not define']);
  });

  it('names a duplicate id and both phases using it', () => {
    const problems = problemsOf({ name: 'dup', phases: [phase(1), { ...phase(1), name: 'Again' }] });
    expect(problems).toEqual(['phase id 1 is used by two phases ("P1" and "Again"); give each phase a unique id']);
  });

  it('treats 1 and "1" as the same id, since JSON keys are strings', () => {
    expect(problemsOf({ name: 'dup', phases: [phase(1), phase('1')] })[0]).toMatch(/phase id 1 is used by two phases/);
  });

  it('names an undeclared resource class and the declared ones', () => {
    expect(problemsOf({ name: 'r', phases: [phase(4, [], { resource_class: 'tpu' })] })).toEqual([
      'phase 4 uses resource class "tpu", which the config does not declare; declare it under "resource_classes" or use one of: default, gpu',
    ]);
  });

  it('accepts a class the config declares', () => {
    expect(problemsOf({ name: 'r', phases: [phase(4, [], { resource_class: 'tpu' })] }, { resource_classes: { tpu: { concurrency: 2 } } })).toEqual([]);
  });

  it('refuses an empty plan', () => {
    expect(problemsOf({ name: 'e', phases: [] })).toEqual(['the plan has no phases; add at least one under "phases"']);
  });

  it('refuses a phase with both or neither of command and handler', () => {
    const problems = problemsOf({
      name: 'h',
      phases: [{ id: 0, name: 'Both', command: ['x'], handler: 'y' }, { id: 1, name: 'Neither' }],
    });
    expect(problems).toEqual([
      'phase 0 ("Both") has both "command" and "handler"; give it exactly one',
      'phase 1 ("Neither") has neither "command" nor "handler"; give it an argv "command" or the name of a registered "handler"',
    ]);
  });

  it('refuses a self-dependency without calling it a cycle', () => {
    expect(problemsOf({ name: 's', phases: [phase(2, [2])] })).toEqual(['phase 2 depends on itself; remove 2 from its depends_on']);
  });

  it('reports schema problems by phase and field', () => {
    const problems = problemsOf({ name: 'x', phases: [{ id: -1, name: 'N', command: 'echo hi' }] });
    expect(problems).toEqual([
      'phase -1: "id" must be a whole number ≥ 0, or a word of letters, digits, ".", "_" and "-" (ids name files and scripts), got -1',
      'phase -1: "command" must be a non-empty list of strings: an argv, run without a shell, got "echo hi"',
    ]);
  });

  it('reports a bad config before the plan', () => {
    expect(problemsOf({ name: 'x', phases: [phase(0)] }, { failed_phase_policy: 'explode' })[0]).toMatch(/^the orchestrator config: "failed_phase_policy" /);
  });

  it('names string ids quoted and number ids bare', () => {
    expect(problemsOf({ name: 'u', phases: [phase('deploy', ['build', 3])] })).toEqual([
      'phase "deploy" depends on "build", which the plan does not define',
      'phase "deploy" depends on 3, which the plan does not define',
    ]);
    expect(problemsOf({ name: 's', phases: [phase('a', ['a'])] })).toEqual(['phase "a" depends on itself; remove "a" from its depends_on']);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({ name: 'many', phases: [phase(1, [9]), phase(1), phase(2, [], { resource_class: 'tpu' })] });
    expect(problems).toHaveLength(3);
  });

  it('checks a 10,000-phase chain without overflowing the stack', () => {
    const phases = Array.from({ length: 10_000 }, (_, i) => phase(i, i === 0 ? [] : [i - 1]));
    expect(problemsOf({ name: 'long', phases })).toEqual([]);
  });
});

describe('plan secret scan', () => {
  it('refuses a plan whose global_context carries an AWS access key, naming the path', () => {
    const key = ['AKIA', 'IOSFODNN7EXAMPLE'].join('');
    const problems = problemsOf({ name: 's', global_context: { aws: { id: key } }, phases: [phase(0)] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^the plan: global_context\.aws\.id: an AWS access key id \(AKIA…\)/);
    expect(problems[0]).not.toContain(key);
  });

  it('refuses a password in a phase config, unless the plan marks the key safe', () => {
    const plan = { name: 's', phases: [phase(0, [], { config: { db_password: 'hunter22' } })] };
    expect(problemsOf(plan)[0]).toMatch(/^phase 0: config\.db_password: key "db_password" holds what looks like a credential/);
    expect(problemsOf({ ...plan, safe_keys: ['db_password'] })).toEqual([]);
    expect(problemsOf({ ...plan, safe_keys: ['phases[0].config.db_password'] })).toEqual([]);
  });
});
