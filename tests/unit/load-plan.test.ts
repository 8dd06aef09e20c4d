import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRun } from '../../src/client/load-plan.js';
import { PlanError } from '../../src/core/plan/problems.js';

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baton-load-'));
  const p = path.join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('loadRun', () => {
  it('reads a YAML plan and resolves base_dir to its directory', async () => {
    const p = await file('plan.yaml', 'name: y\nphases:\n  - id: 0\n    name: Only\n    command: [echo, hi]\n');
    const { plan } = await loadRun(p);
    expect(plan.phases[0]!.command).toEqual(['echo', 'hi']);
    expect(plan.base_dir).toBe(path.dirname(p));
  });

  it('resolves a relative base_dir against the plan file', async () => {
    const p = await file('plan.json', JSON.stringify({ name: 'j', base_dir: 'sub', phases: [{ id: 0, name: 'A', handler: 'h' }] }));
    expect((await loadRun(p)).plan.base_dir).toBe(path.join(path.dirname(p), 'sub'));
  });

  it('reads a YAML plan whose phases have no names, naming them by their ids', async () => {
    const p = await file('plan.yaml', 'name: y\nphases:\n  - id: fetch\n    command: [echo, hi]\n  - id: 2\n    depends_on: [fetch]\n    handler: h\n');
    const { plan } = await loadRun(p);
    expect(plan.phases.map((ph) => ph.name)).toEqual(['fetch', '2']);
  });

  it('refuses a YAML plan with a misspelt key, naming the key meant', async () => {
    const p = await file('plan.yaml', 'name: y\nphases:\n  - id: 0\n    command: [echo, hi]\n  - id: 1\n    dependsOn: [0]\n    command: [echo, hi]\n');
    await expect(loadRun(p)).rejects.toThrow('the plan "y" is not valid:\n  - phase 1: unknown key "dependsOn"; did you mean "depends_on"?');
  });

  it('takes an output_schema that needs a real validator (not, if/then, dependentRequired, const objects)', async () => {
    const schema = { type: 'object', required: ['report_path'], not: { required: ['password'] }, if: { required: ['kind'] }, then: { required: ['path'] }, dependentRequired: { a: ['b'] }, properties: { env: { const: { name: 'prod' } } } };
    const p = await file('plan.json', JSON.stringify({ name: 'j', phases: [{ id: 0, handler: 'h', use_separate_agent: true, output_schema: schema }] }));
    expect((await loadRun(p)).plan.phases[0]!.output_schema).toEqual(schema);
  });

  it('names a missing file', async () => {
    await expect(loadRun('/nonexistent/plan.json')).rejects.toThrow('/nonexistent/plan.json does not exist; check the path');
  });

  it('names a YAML syntax error', async () => {
    const p = await file('plan.yml', 'name: [unclosed\n');
    const err = await loadRun(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).problems[0]).toContain(`${p} is not valid YAML`);
  });

  it('checks the config file too', async () => {
    const p = await file('plan.json', JSON.stringify({ name: 'j', phases: [{ id: 0, name: 'A', handler: 'h' }] }));
    const c = await file('config.json', JSON.stringify({ max_parallel_phases: 0 }));
    await expect(loadRun(p, c)).rejects.toThrow(/the orchestrator config is not valid:\n {2}- the orchestrator config: "max_parallel_phases" must be a whole number from 1 to 2000/);
  });
});
