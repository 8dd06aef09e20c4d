/**
 * checkRun's two ways with unknown keys, names that default to ids, and the key suggestions.
 */
import { describe, expect, it } from 'vitest';
import { compactPlan } from '../../src/core/plan/compact.js';
import { editDistance, likelyKey } from '../../src/core/plan/schema-problems.js';
import { PhaseSchema, PlanSchema } from '../../src/core/plan/schema.js';
import { checkConfig, checkRun } from '../../src/core/plan/validate.js';
import { problemsOf } from '../support/plan-problems.js';


const full = {
  name: 'full',
  workdir: 'w',
  base_dir: '/b',
  global_context: { repo: '.' },
  shared_artifacts: { inventory: 'data/inventory.csv' },
  safe_keys: ['x'],
  auto_advance: false,
  phases: [
    {
      id: 0, name: 'Zero', description: 'd', depends_on: [], resource_class: 'gpu', command: ['true'], config: { depth: 3 }, timeout_s: 5, retries: 2,
      use_separate_agent: true, transitive_context: true, agent_timeout_s: 9, on_agent_timeout: 'inline', compensate: ['undo'], output_schema: { type: 'object' },
    },
    { id: 'one', name: 'One', depends_on: [0], handler: 'h' },
  ],
};
const fullConfig = {
  agent_handoff_enabled: false, use_separate_agents: true, max_parallel_phases: 7, failed_phase_policy: 'fail', on_handoff_failure: 'fail',
  resource_classes: { default: { concurrency: 2 }, gpu: { concurrency: 1, timeout_s: 60, retries: 1 } },
  agent_timeout_s: 100, on_agent_timeout: 'inline', accept_unsigned_results: true, heartbeat_timeout_s: 10, worker_loss_retries: 1,
  default_timeout_s: 50, default_retries: 1, continue_as_new_after_phases: 100,
};

/** The same documents with a stray key at every level that is checked. */
const stray = {
  ...full,
  max_parallel_phases: 3,
  phases: [{ ...full.phases[0], dependsOn: [9], retry: 4 }, { ...full.phases[1], timeout: 1 }],
};
const strayConfig = { ...fullConfig, max_parallel_phase: 1, resource_classes: { ...fullConfig.resource_classes, gpu: { ...fullConfig.resource_classes.gpu, concurency: 8 } } };

describe('phase names', () => {
  it('a plan without phase names is accepted, each named by its id as a string', () => {
    const { plan } = checkRun({ name: 'p', phases: [{ id: 0, command: ['true'] }, { id: 'train', depends_on: [0], handler: 'h' }] });
    expect(plan.phases.map((p) => p.name)).toEqual(['0', 'train']);
    expect(Object.keys(plan.phases[0]!).slice(0, 2)).toEqual(['id', 'name']);
  });

  it('a phase that names itself keeps its name', () => {
    expect(PhaseSchema.parse({ id: 4, name: 'Four' }).name).toBe('Four');
  });

  it('a nameless plan travels compacted and comes back the same', () => {
    const { plan } = checkRun({ name: 'p', phases: [{ id: 0, command: ['true'] }, { id: 1, depends_on: [0], command: ['true'] }] });
    const compact = compactPlan(plan);
    expect(compact.phases.map((p) => p.name)).toEqual(['0', '1']);
    expect(checkRun(compact).plan).toEqual(plan);
  });
});

describe("unknownKeys: 'refuse' (the default) and 'ignore'", () => {
  it('refuses a stray key at every level, each with the key meant', () => {
    expect(problemsOf(stray, strayConfig)).toEqual([
      'the orchestrator config: unknown key "concurency" in "resource_classes.gpu"; did you mean "concurrency"?',
      'the orchestrator config: unknown key "max_parallel_phase"; did you mean "max_parallel_phases"?',
      'phase 0: unknown key "dependsOn"; did you mean "depends_on"?',
      'phase 0: unknown key "retry"; did you mean "retries"?',
      'phase "one": unknown key "timeout"; did you mean "timeout_s"?',
      'the plan: unknown key "max_parallel_phases"; remove it, or use one of: name, workdir, base_dir, global_context, shared_artifacts, safe_keys, auto_advance, phases',
    ]);
  });

  it("'ignore' drops them, as before, and reads the rest exactly as 'refuse' reads the documents without them", () => {
    const lenient = checkRun(stray, strayConfig, { unknownKeys: 'ignore' });
    const strict = checkRun(full, fullConfig);
    expect(lenient).toEqual(strict);
    // Same keys in the same order too: what the workflow goes on to do is the same.
    expect(JSON.stringify(lenient)).toBe(JSON.stringify(strict));
    expect(lenient.plan.phases[0]).not.toHaveProperty('dependsOn');
    expect(lenient.config.resource_classes.gpu).toEqual({ concurrency: 1, timeout_s: 60, retries: 1 });
  });

  it("'ignore' fills in the same defaults", () => {
    const minimal = { name: 'm', phases: [{ id: 0, name: 'Zero', command: ['true'] }] };
    expect(JSON.stringify(checkRun(minimal, {}, { unknownKeys: 'ignore' }))).toBe(JSON.stringify(checkRun(minimal, {})));
    expect(checkConfig({ extra: 1 }, { unknownKeys: 'ignore' })).toEqual(checkConfig({}));
    expect(() => checkConfig({ extra: 1 })).toThrow('the orchestrator config: unknown key "extra"; remove it, or use one of: agent_handoff_enabled,');
  });

  it("'ignore' still needs a name on every phase, as before, so a run refused then is refused on replay", () => {
    expect(problemsOf({ name: 'p', phases: [{ id: 0, command: ['true'] }] }, {}, { unknownKeys: 'ignore' })).toEqual([
      'phase 0: "name" is missing; it must be a non-empty string',
    ]);
  });

  it("'ignore' refuses everything else it refused before", () => {
    expect(problemsOf({ name: 'p', phases: [{ id: 0, name: 'A', command: ['true'], depends_on: [0], stray: 1 }] }, {}, { unknownKeys: 'ignore' })).toEqual([
      'phase 0 depends on itself; remove 0 from its depends_on',
    ]);
  });

  it('the exported PlanSchema is the strict one', () => {
    expect(PlanSchema.safeParse({ name: 'p', phases: [], extra: 1 }).success).toBe(false);
  });
});

describe('likelyKey', () => {
  const phaseKeys = ['id', 'name', 'depends_on', 'command', 'handler', 'timeout_s', 'retries', 'agent_timeout_s', 'use_separate_agent'];
  it.each([
    ['dependsOn', 'depends_on'],
    ['depends-on', 'depends_on'],
    ['DEPENDS_ON', 'depends_on'],
    ['depends', 'depends_on'],
    ['retry', 'retries'],
    ['retires', 'retries'],
    ['timeouts', 'timeout_s'],
    ['timeout', 'timeout_s'],
    ['comand', 'command'],
    ['handlr', 'handler'],
    ['use_seperate_agents', 'use_separate_agent'],
    ['Name', 'name'],
  ])('%s means %s', (typo, meant) => {
    expect(likelyKey(typo, phaseKeys)).toBe(meant);
  });

  it.each(['frobnicate', 'x', 'env', 'priority'])('%s means nothing it knows', (key) => {
    expect(likelyKey(key, phaseKeys)).toBeUndefined();
  });

  it('counts a swap of two neighbours as one edit', () => {
    expect(editDistance('hadnler', 'handler')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
