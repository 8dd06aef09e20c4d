/**
 * The bad-input catalogue, part 1: plans, configs and packages refused before anything runs,
 * each with a message that names the problem and the fix. (Part 2, against a live run, is in
 * run-inputs.test.ts.)
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRun } from '../../src/client/load-plan.js';
import { AgentResultSchema } from '../../src/core/handoff/result.js';
import { HandoffPackageSchema } from '../../src/core/handoff/schema.js';
import { PlanError } from '../../src/core/plan/problems.js';
import { checkRun } from '../../src/core/plan/validate.js';
import { problemsOf } from '../support/plan-problems.js';

const ok = { id: 0, name: 'Zero', command: ['true'] };
const akid = ['AKIA', 'Z7ROCKSLIDE4EXAMPLE'].join('').slice(0, 20);

function refusal(plan: unknown, config: unknown = {}): string {
  try {
    checkRun(plan, config);
  } catch (err) {
    if (err instanceof PlanError) return err.message;
    throw err;
  }
  throw new Error('accepted');
}

const planCases: Array<[string, unknown, RegExp, unknown?]> = [
  ['a cycle', { name: 'p', phases: [{ ...ok, id: 3, depends_on: [5] }, { ...ok, id: 5, depends_on: [3] }] }, /dependency cycle: 3 -> 5 -> 3; remove one of these dependencies/],
  ['an unknown dependency', { name: 'p', phases: [{ ...ok, id: 7, depends_on: [12] }] }, /phase 7 depends on 12, which the plan does not define/],
  ['a duplicate id', { name: 'p', phases: [ok, { ...ok, name: 'Again' }] }, /phase id 0 is used by two phases \("Zero" and "Again"\); give each phase a unique id/],
  ['an empty plan', { name: 'p', phases: [] }, /the plan has no phases; add at least one under "phases"/],
  ['both command and handler', { name: 'p', phases: [{ ...ok, handler: 'h' }] }, /has both "command" and "handler"; give it exactly one/],
  ['neither command nor handler', { name: 'p', phases: [{ id: 0, name: 'Zero' }] }, /has neither "command" nor "handler"/],
  ['an undeclared resource class', { name: 'p', phases: [{ ...ok, resource_class: 'tpu' }] }, /resource class "tpu", which the config does not declare; declare it under "resource_classes" or use one of: default, gpu/],
  ['a self-dependency', { name: 'p', phases: [{ ...ok, depends_on: [0] }] }, /phase 0 depends on itself; remove 0 from its depends_on/],
  ['a negative id', { name: 'p', phases: [{ ...ok, id: -1 }] }, /phase -1: "id" must be a whole number ≥ 0, or a word of letters, digits, "\.", "_" and "-" \(ids name files and scripts\), got -1/],
  ['a command given as a string (a shell line)', { name: 'p', phases: [{ ...ok, command: 'rm -rf /' }] }, /phase 0: "command" must be a non-empty list of strings: an argv, run without a shell, got "rm -rf \/"/],
  ['an empty command', { name: 'p', phases: [{ ...ok, command: [] }] }, /phase 0: "command" must be a non-empty list of strings: an argv, run without a shell, got an empty list/],
  ['a phase with an empty name', { name: 'p', phases: [{ id: 0, name: '', command: ['true'] }] }, /phase 0: "name" must be a non-empty string, got ""/],
  ['a plan without a name', { phases: [ok] }, /^the plan is not valid:\n {2}- the plan: "name" is missing; it must be a non-empty string$/],
  ['a negative timeout', { name: 'p', phases: [{ ...ok, timeout_s: -5 }] }, /phase 0: "timeout_s" must be a number of seconds > 0, got -5/],
  ['an AWS key in global_context', { name: 'p', global_context: { deploy: { key: akid } }, phases: [ok] }, /the plan: global_context\.deploy\.key: an AWS access key id \(AKIA…\)/],
  ['a password in a phase config', { name: 'p', phases: [{ ...ok, config: { db_password: 'hunter2hunter2' } }] }, /phase 0: config\.db_password: key "db_password" holds what looks like a credential/],
  ['a token in a command', { name: 'p', phases: [{ ...ok, command: ['curl', 'https://user:s3cretpass@example.com'] }] }, /phase 0: command\[1\]: a URL with an embedded password \(http…\)/],
  // Every field that reaches a package, the status or a file is scanned, not only contexts, configs and commands.
  ['an AWS key in the plan\'s name', { name: `deploy-${akid}`, phases: [ok] }, /the plan: name: an AWS access key id \(AKIA…\)/],
  ['an AWS key in a phase name', { name: 'p', phases: [{ ...ok, name: `upload with ${akid}` }] }, /phase 0: name: an AWS access key id \(AKIA…\)/],
  ['a URL with a password in a description', { name: 'p', phases: [{ ...ok, description: 'loads from postgres://app:hunter2hunter2@db/x' }] }, /phase 0: description: a URL with an embedded password \(post…\)/],
  ['a token in an output_schema', { name: 'p', phases: [{ ...ok, output_schema: { type: 'object', properties: { api_token: { const: `xoxb-${'1'.repeat(12)}-abcdefghij` } } } }] }, /phase 0: output_schema\.properties\.api_token\.const: a Slack token \(xoxb…\)/],
  ['a password in a rollback', { name: 'p', phases: [{ ...ok, compensate: ['psql', 'postgres://app:hunter2hunter2@db/x', '-c', 'rollback'] }] }, /phase 0: compensate\[1\]: a URL with an embedded password \(post…\)/],
  ['an agent timeout of zero', { name: 'p', phases: [{ ...ok, agent_timeout_s: 0 }] }, /phase 0: "agent_timeout_s" must be a number of seconds > 0, got 0/],
  ['a bad on_agent_timeout', { name: 'p', phases: [{ ...ok, on_agent_timeout: 'retry' }] }, /phase 0: "on_agent_timeout" must be one of "inline", "fail", got "retry"/],
  ['a resource class that cannot be a queue name', { name: 'p', phases: [{ ...ok, resource_class: 'GPU Box' }] }, /phase 0: "resource_class" must be lower-case letters, digits, "-" and "_" \(a resource class becomes the task queue baton-<class>\), got "GPU Box"/],
];

const configCases: Array<[string, unknown, RegExp]> = [
  ['an unknown failed_phase_policy', { failed_phase_policy: 'explode' }, /^the orchestrator config is not valid:\n {2}- the orchestrator config: "failed_phase_policy" must be one of "hold", "fail", got "explode"$/],
  ['zero parallel phases', { max_parallel_phases: 0 }, /the orchestrator config: "max_parallel_phases" must be a whole number from 1 to 2000 \(Temporal allows 2,000 pending activities per workflow\), got 0/],
  ['a class with zero concurrency', { resource_classes: { gpu: { concurrency: 0 } } }, /the orchestrator config: "resource_classes\.gpu\.concurrency" must be a whole number ≥ 1, got 0/],
  ['a bad class name', { resource_classes: { 'Big Box': {} } }, /the orchestrator config: key "Big Box" in "resource_classes" must be lower-case letters, digits, "-" and "_"/],
  ['a negative heartbeat timeout', { heartbeat_timeout_s: -1 }, /the orchestrator config: "heartbeat_timeout_s" must be a number of seconds > 0, got -1/],
  ['an unknown on_handoff_failure', { on_handoff_failure: 'ignore' }, /the orchestrator config: "on_handoff_failure" must be one of "fail", "inline", got "ignore"/],
  ['more parallel phases than Temporal allows pending activities', { max_parallel_phases: 5000 }, /the orchestrator config: "max_parallel_phases" must be a whole number from 1 to 2000 \(Temporal allows 2,000 pending activities per workflow\), got 5000/],
  ['require_signed_packages that is not true or false', { require_signed_packages: 'yes' }, /the orchestrator config: "require_signed_packages" must be true or false, got "yes"/],
  ['continue_as_new_after_phases of zero', { continue_as_new_after_phases: 0 }, /the orchestrator config: "continue_as_new_after_phases" must be a whole number ≥ 1, got 0/],
  ['a baton_ui_url that is not http(s)', { baton_ui_url: 'javascript:alert(1)' }, /the orchestrator config: "baton_ui_url" must be an http:\/\/ or https:\/\/ address, as `baton ui` prints it/],
];

describe('bad plans are refused before anything starts', () => {
  for (const [what, plan, message] of planCases) {
    it(what, () => {
      expect(refusal(plan)).toMatch(message);
    });
  }
});

describe('bad configs are refused', () => {
  for (const [what, config, message] of configCases) {
    it(what, () => {
      expect(refusal({ name: 'p', phases: [ok] }, config)).toMatch(message);
    });
  }
});


describe('unknown keys are refused, naming the key probably meant', () => {
  const build = { id: 'build', command: ['make'] };
  const cases: Array<[string, unknown, unknown, string]> = [
    ['dependsOn on a phase', { name: 'p', phases: [build, { id: 'deploy', command: ['ship'], dependsOn: ['build'] }] }, {}, 'phase "deploy": unknown key "dependsOn"; did you mean "depends_on"?'],
    ['retry on a phase', { name: 'p', phases: [{ ...ok, id: 3, retry: 2 }] }, {}, 'phase 3: unknown key "retry"; did you mean "retries"?'],
    ['timeout on a phase', { name: 'p', phases: [{ ...ok, id: 'train', timeout: 60 }] }, {}, 'phase "train": unknown key "timeout"; did you mean "timeout_s"?'],
    ['use_seperate_agents on a phase', { name: 'p', phases: [{ ...ok, use_seperate_agents: true }] }, {}, 'phase 0: unknown key "use_seperate_agents"; did you mean "use_separate_agent"?'],
    ['Command in another case', { name: 'p', phases: [{ id: 0, handler: 'h', Command: ['x'] }] }, {}, 'phase 0: unknown key "Command"; did you mean "command"?'],
    ['phase at plan level', { name: 'p', phases: [ok], phase: [] }, {}, 'the plan: unknown key "phase"; did you mean "phases"?'],
    ['max_parallel_phase in the config', { name: 'p', phases: [ok] }, { max_parallel_phase: 3 }, 'the orchestrator config: unknown key "max_parallel_phase"; did you mean "max_parallel_phases"?'],
    ['use_seperate_agents in the config', { name: 'p', phases: [ok] }, { use_seperate_agents: true }, 'the orchestrator config: unknown key "use_seperate_agents"; did you mean "use_separate_agents"?'],
    ['concurency in a resource class', { name: 'p', phases: [ok] }, { resource_classes: { gpu: { concurency: 1 } } }, 'the orchestrator config: unknown key "concurency" in "resource_classes.gpu"; did you mean "concurrency"?'],
    ['retires in a class whose name is not an identifier', { name: 'p', phases: [ok] }, { resource_classes: { 'big-gpu': { retires: 1 } } }, 'the orchestrator config: unknown key "retires" in resource_classes["big-gpu"]; did you mean "retries"?'],
  ];
  for (const [what, plan, config, message] of cases) {
    it(what, () => {
      expect(problemsOf(plan, config)).toEqual([message]);
    });
  }

  it('a key like none it knows, listing the ones it does', () => {
    expect(problemsOf({ name: 'p', phases: [{ ...ok, frobnicate: 1 }] })).toEqual([
      'phase 0: unknown key "frobnicate"; remove it, or use one of: id, name, description, depends_on, resource_class, command, handler, config, ' +
        'timeout_s, retries, use_separate_agent, transitive_context, agent_timeout_s, on_agent_timeout, compensate, output_schema, agent',
    ]);
  });

  it('keys under shared_artifacts, global_context and a phase config are the user\'s own', () => {
    expect(() => checkRun({ name: 'p', global_context: { anything: 1 }, shared_artifacts: { 'my-file': 'data/f.csv' }, phases: [{ ...ok, config: { dependsOn: 1 } }] })).not.toThrow();
  });
});

describe('each problem names the phase by its id, the field, what it must be and what was written', () => {
  it('a string where a whole number goes, and a negative timeout', () => {
    const problems = problemsOf({ name: 'p', phases: [{ id: 'train', command: ['x'], retries: 'two' }, { id: 3, handler: 'h', timeout_s: -1 }] });
    expect(problems).toEqual(['phase "train": "retries" must be a whole number ≥ 0, got "two"', 'phase 3: "timeout_s" must be a number of seconds > 0, got -1']);
  });

  it('a missing id, a phase that is not an object, a bad item in a list', () => {
    const problems = problemsOf({ name: 'p', phases: [{ command: ['x'] }, 'build', { id: 2, command: ['x', 7], depends_on: [-4] }] });
    expect(problems).toEqual([
      'the phase at phases[0]: "id" is missing; it must be a whole number ≥ 0, or a word of letters, digits, ".", "_" and "-" (ids name files and scripts)',
      'the phase at phases[1]: must be an object, got "build"',
      'phase 2: "depends_on[0]" must be a whole number ≥ 0, or a word of letters, digits, ".", "_" and "-" (ids name files and scripts), got -4',
      'phase 2: "command[1]" must be a string, got 7',
    ]);
  });

  it('a long value is cut to 40 characters, and one that looks like a credential is not shown', () => {
    const long = 'x'.repeat(100);
    expect(problemsOf({ name: 'p', phases: [{ ...ok, on_agent_timeout: long }] })).toEqual([`phase 0: "on_agent_timeout" must be one of "inline", "fail", got "${'x'.repeat(40)}"…`]);
    const token = ['ghp_', 'a'.repeat(36)].join('');
    const message = refusal({ name: 'p', phases: [{ ...ok, on_agent_timeout: token }] });
    expect(message).toContain('phase 0: "on_agent_timeout" must be one of "inline", "fail", got a value that looks like a credential (not shown)');
    expect(message).not.toContain(token.slice(0, 8));
  });

  it('a phase whose id looks like a credential is named by its place', () => {
    expect(problemsOf({ name: 'p', phases: [{ id: akid, command: ['x'], retries: -1 }] })).toEqual(['the phase at phases[0]: "retries" must be a whole number ≥ 0, got -1']);
  });
});

describe('schema and graph problems are reported together', () => {
  it('a bad field and a cycle, in one message', () => {
    const message = refusal({ name: 'p', phases: [{ ...ok, id: 3, depends_on: [5], timeout_s: 'soon' }, { ...ok, id: 5, depends_on: [3] }] });
    expect(message).toBe(
      'the plan "p" is not valid:\n' +
        '  - phase 3: "timeout_s" must be a number of seconds > 0, got "soon"\n' +
        '  - the plan has a dependency cycle: 3 -> 5 -> 3; remove one of these dependencies',
    );
  });

  it('phases without names, an unknown key and a cycle among string ids, in one message', () => {
    const problems = problemsOf({ name: 'p', phases: [{ id: 'a', command: ['x'], depends_on: ['b'] }, { id: 'b', command: ['x'], depends_on: ['a'], retry: 1 }] });
    expect(problems).toEqual([
      'phase "b": unknown key "retry"; did you mean "retries"?',
      'the plan has a dependency cycle: "a" -> "b" -> "a"; remove one of these dependencies',
    ]);
  });

  it('a bad field beside an unknown dependency, a duplicate id, a phase without command and an undeclared class', () => {
    const problems = problemsOf({
      name: 'p',
      phases: [
        { id: 'fetch', command: ['x'], retries: 1.5 },
        { id: 'fetch', name: 'Again', command: ['x'] },
        { id: 'train', depends_on: ['prep', 7.5], resource_class: 'tpu' },
      ],
    });
    expect(problems).toEqual([
      'phase "fetch": "retries" must be a whole number ≥ 0, got 1.5',
      'phase "train": "depends_on[1]" must be a whole number ≥ 0, or a word of letters, digits, ".", "_" and "-" (ids name files and scripts), got 7.5',
      'phase id "fetch" is used by two phases ("fetch" and "Again"); give each phase a unique id',
      'phase "train" has neither "command" nor "handler"; give it an argv "command" or the name of a registered "handler"',
      'phase "train" depends on "prep", which the plan does not define',
      'phase "train" uses resource class "tpu", which the config does not declare; declare it under "resource_classes" or use one of: default, gpu',
    ]);
  });

  it('a bad config and a bad plan, in one message, the config first', () => {
    const message = refusal({ name: 'p', phases: [{ ...ok, depends_on: [9] }] }, { failed_phase_policy: 'explode' });
    expect(message).toBe(
      'the plan "p" and the orchestrator config are not valid:\n' +
        '  - the orchestrator config: "failed_phase_policy" must be one of "hold", "fail", got "explode"\n' +
        '  - phase 0 depends on 9, which the plan does not define',
    );
  });
});

describe('bad files are refused with their name', () => {
  const file = async (name: string, text: string): Promise<string> => {
    const p = path.join(await mkdtemp(path.join(os.tmpdir(), 'baton-bad-')), name);
    await writeFile(p, text);
    return p;
  };
  it('a plan that is not JSON', async () => {
    const p = await file('plan.json', '{"name": "x",');
    await expect(loadRun(p)).rejects.toThrow(`${p} is not valid JSON`);
  });
  it('a YAML plan with a syntax error', async () => {
    const p = await file('plan.yaml', 'name: [\n');
    await expect(loadRun(p)).rejects.toThrow(`${p} is not valid YAML`);
  });
  it('a plan file that does not exist', async () => {
    await expect(loadRun('/nonexistent/plan.json')).rejects.toThrow('/nonexistent/plan.json does not exist; check the path');
  });
  it('a config that is an array', async () => {
    const p = await file('plan.json', JSON.stringify({ name: 'x', phases: [ok] }));
    const c = await file('config.json', '[]');
    await expect(loadRun(p, c)).rejects.toThrow(/the orchestrator config is not valid/);
  });
});

describe('bad packages and results are refused by their schemas, naming the field', () => {
  it('a package with a field this version does not know', () => {
    const parsed = HandoffPackageSchema.safeParse({ surprise: 1 });
    expect(parsed.success).toBe(false);
  });
  it('a result without provenance or package hash', () => {
    const parsed = AgentResultSchema.safeParse({ schema_version: 1, execution_id: 'r', phase: 0, generation: 1, attempt: 1, outcome: 'completed' });
    expect(parsed.success).toBe(false);
    const paths = parsed.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['package_hash', 'provenance']));
  });
});

describe('output schemas that cannot be used are refused before anything starts (baton run, Orchestrator.start)', () => {
  const planFile = async (schema: unknown, more: unknown[] = []): Promise<string> => {
    const p = path.join(await mkdtemp(path.join(os.tmpdir(), 'baton-schema-')), 'plan.json');
    await writeFile(p, JSON.stringify({ name: 'p', phases: [{ id: 'train', command: ['x'], use_separate_agent: true, output_schema: schema }, ...more] }));
    return p;
  };
  const refused = (what: string, schema: unknown, problem: string | RegExp): void => {
    it(what, async () => {
      const err = await loadRun(await planFile(schema)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlanError);
      const [only, ...rest] = (err as PlanError).problems;
      expect(rest).toEqual([]);
      const prefix = 'phase "train": "output_schema" is not a valid JSON Schema (draft 2020-12): ';
      expect(only!.startsWith(prefix), only).toBe(true);
      expect(only!.slice(prefix.length)).toMatch(typeof problem === 'string' ? new RegExp(`^${problem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : problem);
    });
  };
  refused('a misspelt type ({"type": "strnig"}: it used to refuse every result)', { type: 'strnig' }, 'type: must be equal to one of the allowed values ("array", "boolean", "integer", "null", "number", "object", "string")');
  refused('a misspelt keyword', { type: 'object', requird: ['report_path'] }, 'strict mode: unknown keyword: "requird"');
  refused('an unknown format', { type: 'string', format: 'postcode' }, 'unknown format "postcode" at "#"');
  refused('a pattern that is not a regular expression', { type: 'string', pattern: '((' }, /^Invalid regular expression: /);
  refused('a reference to nothing', { $ref: '#/$defs/report' }, /can't resolve reference #\/\$defs\/report/);
  refused('another draft', { $schema: 'http://json-schema.org/draft-07/schema#' }, /^\$schema: is "http:\/\/json-schema\.org\/draft-07\/schema#": Baton checks with draft 2020-12/);

  it('listed with the plan\'s other problems, in one message', async () => {
    const p = await planFile({ type: 'strnig' }, [{ id: 'next', command: ['x'], depends_on: ['nowhere'], output_schema: { not: { required: ['x'] } } }]);
    await expect(loadRun(p)).rejects.toThrow(
      'the plan "p" is not valid:\n' +
        '  - phase "next" depends on "nowhere", which the plan does not define\n' +
        '  - phase "train": "output_schema" is not a valid JSON Schema (draft 2020-12): type: must be equal to one of the allowed values',
    );
  });
});
