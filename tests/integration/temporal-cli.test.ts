/**
 * A run launched with the plain Temporal CLI, no baton involved, completes with the workers running.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it, inject } from 'vitest';
import { Orchestrator } from '../../src/client/orchestrator.js';
import { FIXTURES, fixturePhase, startWorker, tempDir, testClient, writeJson, type WorkerProcess } from '../support/baton.js';

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorker([]);
});
afterAll(async () => {
  await worker?.stop();
});

it('temporal workflow start --type phasedRun --task-queue baton --input-file run.json', async () => {
  const dir = await tempDir();
  const runId = `cli-run-${Date.now()}`;
  // Plain JSON: what a user writes by hand. Absolute base_dir, since no baton resolves the plan's directory here.
  const input = await writeJson(path.join(dir, 'run.json'), {
    plan: { name: 'from-temporal-cli', base_dir: dir, workdir: 'wd', phases: [fixturePhase(0), fixturePhase(1, [0]), fixturePhase('gpu-step', [1], {}, { resource_class: 'gpu' })] },
    config: { max_parallel_phases: 2 },
  });
  const { stdout } = await promisify(execFile)(inject('temporalBinary'), [
    'workflow', 'start', '--type', 'phasedRun', '--task-queue', 'baton', '--workflow-id', runId,
    '--input-file', input, '--address', inject('temporalAddress'), '--namespace', 'default',
  ]);
  expect(stdout).toContain(runId);

  const status = await new Orchestrator(await testClient()).run(runId).finalStatus();
  expect(status.state).toBe('completed');
  expect(status.phases['gpu-step']!.task_queue).toBe('baton-gpu');
  expect(status.phases['1']!.context!.context.dependency_keys).toEqual(['0']);
});

it('a hand-written input without phase names runs, and one with a misspelled key is refused naming the key meant', async () => {
  const dir = await tempDir();
  const client = await testClient();
  const start = async (runId: string, plan: unknown): Promise<void> => {
    const input = await writeJson(path.join(dir, `${runId}.json`), { plan });
    await promisify(execFile)(inject('temporalBinary'), [
      'workflow', 'start', '--type', 'phasedRun', '--task-queue', 'baton', '--workflow-id', runId,
      '--input-file', input, '--address', inject('temporalAddress'), '--namespace', 'default',
    ]);
  };
  const unnamed = (id: number, deps: number[] = []) => ({ id, depends_on: deps, command: ['node', path.join(FIXTURES, 'phase.mjs')] });

  const named = `cli-unnamed-${Date.now()}`;
  await start(named, { name: 'unnamed', base_dir: dir, workdir: 'wd-unnamed', phases: [unnamed(0), unnamed(1, [0])] });
  const status = await new Orchestrator(client).run(named).finalStatus();
  expect(status.state).toBe('completed');
  expect(status.phases['1']!.name).toBe('1');

  const misspelt = `cli-misspelt-${Date.now()}`;
  await start(misspelt, { name: 'misspelt', base_dir: dir, workdir: 'wd-misspelt', phases: [unnamed(0), { ...unnamed(1), dependsOn: [0] }] });
  await expect(client.workflow.getHandle(misspelt).result()).rejects.toMatchObject({
    cause: { type: 'InvalidPlan', message: expect.stringContaining('phase 1: unknown key "dependsOn"; did you mean "depends_on"?') },
  });
});
