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
  ['a negative id', { name: 'p', phases: [{ ...ok, id: -1 }] }, /phases\[0\]\.id: /],
  ['a command given as a string (a shell line)', { name: 'p', phases: [{ ...ok, command: 'rm -rf /' }] }, /phases\[0\]\.command: /],
  ['an empty command', { name: 'p', phases: [{ ...ok, command: [] }] }, /phases\[0\]\.command: /],
  ['a phase without a name', { name: 'p', phases: [{ id: 0, command: ['true'] }] }, /phases\[0\]\.name: /],
  ['a plan without a name', { phases: [ok] }, /^the plan is not valid:\n {2}- name: /],
  ['a negative timeout', { name: 'p', phases: [{ ...ok, timeout_s: -5 }] }, /phases\[0\]\.timeout_s: /],
  ['an AWS key in global_context', { name: 'p', global_context: { deploy: { key: akid } }, phases: [ok] }, /global_context\.deploy\.key: an AWS access key id \(AKIA…\)/],
  ['a password in a phase config', { name: 'p', phases: [{ ...ok, config: { db_password: 'hunter2hunter2' } }] }, /phases\[0\]\.config\.db_password: key "db_password" holds what looks like a credential/],
  ['a token in a command', { name: 'p', phases: [{ ...ok, command: ['curl', 'https://user:s3cretpass@example.com'] }] }, /phases\[0\]\.command\[1\]: a URL with an embedded password \(http…\)/],
  ['an agent timeout of zero', { name: 'p', phases: [{ ...ok, agent_timeout_s: 0 }] }, /phases\[0\]\.agent_timeout_s: /],
  ['a bad on_agent_timeout', { name: 'p', phases: [{ ...ok, on_agent_timeout: 'retry' }] }, /phases\[0\]\.on_agent_timeout: /],
  ['a resource class that cannot be a queue name', { name: 'p', phases: [{ ...ok, resource_class: 'GPU Box' }] }, /phases\[0\]\.resource_class: a resource class is lower-case letters/],
];

const configCases: Array<[string, unknown, RegExp]> = [
  ['an unknown failed_phase_policy', { failed_phase_policy: 'explode' }, /^the orchestrator config is not valid:\n {2}- failed_phase_policy: /],
  ['zero parallel phases', { max_parallel_phases: 0 }, /max_parallel_phases: /],
  ['a class with zero concurrency', { resource_classes: { gpu: { concurrency: 0 } } }, /resource_classes\.gpu\.concurrency: /],
  ['a bad class name', { resource_classes: { 'Big Box': {} } }, /resource_classes/],
  ['a negative heartbeat timeout', { heartbeat_timeout_s: -1 }, /heartbeat_timeout_s: /],
  ['an unknown on_handoff_failure', { on_handoff_failure: 'ignore' }, /on_handoff_failure: /],
  ['more parallel phases than Temporal allows pending activities', { max_parallel_phases: 5000 }, /max_parallel_phases: max_parallel_phases is at most 2000 \(Temporal allows 2,000 pending activities per workflow\)/],
  ['continue_as_new_after_phases of zero', { continue_as_new_after_phases: 0 }, /continue_as_new_after_phases: /],
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
