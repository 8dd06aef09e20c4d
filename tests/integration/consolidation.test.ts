/**
 * The guide's 13-phase consolidation job, run as a user runs it: `baton run` with the
 * example's plan and config, against separate orchestrator, default and gpu workers.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunStatus } from '../../src/core/api/status.js';
import { baton, ROOT, startWorker, type WorkerProcess } from '../support/baton.js';

const example = path.join(ROOT, 'examples/consolidation');
const config = path.join(example, 'orchestrator_config.json');
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  workers.push(
    await startWorker(['--orchestrator', '--config', config]),
    await startWorker(['--class', 'default', '--config', config], { BATON_WORKER_NAME: 'default-worker' }),
    await startWorker(['--class', 'gpu', '--config', config], { BATON_WORKER_NAME: 'gpu-worker' }),
  );
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
});

it('runs all 13 phases; 7, 8 and 9 overlap; phase 12 runs on baton-gpu', async () => {
  const runId = `consolidation-test-${Date.now()}`;
  const result = await baton(['run', path.join(example, 'plan.json'), '--config', config, '--id', runId, '--json']);
  expect(result.code, result.stderr).toBe(0);
  const status = JSON.parse(result.stdout) as RunStatus;

  expect(Object.keys(status.phases)).toHaveLength(13);
  for (const [key, phase] of Object.entries(status.phases)) expect(phase.state, `phase ${key}`).toBe('completed');

  const spans = ['7', '8', '9'].map((k) => status.phases[k]!).map((p) => ({ from: Date.parse(p.started_at!), to: Date.parse(p.finished_at!) }));
  expect(Math.max(...spans.map((s) => s.from))).toBeLessThan(Math.min(...spans.map((s) => s.to)));

  expect(status.phases['12']!.task_queue).toBe('baton-gpu');
  expect(status.phases['12']!.executed_by).toBe('gpu-worker');
  for (const key of ['0', '7', '11']) expect(status.phases[key]!.executed_by).toBe('default-worker');

  // Real outputs: discovery found this repository's files, and the final report exists.
  expect(status.phases['0']!.context!.context.files).toBeGreaterThan(20);
  const finalReport = status.phases['11']!.context!.artifacts.final_report!;
  const workdir = path.join(example, '.baton/consolidation');
  expect((await readFile(path.join(workdir, finalReport.path))).length).toBe(finalReport.size);

  // The guide's execution_context.json agrees with the status query.
  const exported = JSON.parse(await readFile(path.join(workdir, 'execution_context.json'), 'utf8')) as RunStatus;
  expect(exported.execution_id).toBe(runId);
  expect(exported.phases).toEqual(status.phases);
});
