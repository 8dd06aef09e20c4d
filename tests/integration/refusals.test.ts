/**
 * Bad plans are refused before anything starts: no workflow is created.
 */
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baton, fixturePhase, startWorker, tempDir, testClient, writeJson, type WorkerProcess } from '../support/baton.js';

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorker(['--orchestrator']);
});
afterAll(async () => {
  await worker?.stop();
});

async function runsOf(planName: string): Promise<number> {
  const client = await testClient();
  let n = 0;
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'phasedRun'` })) if (wf.workflowId.startsWith(`${planName}-`)) n++;
  return n;
}

describe('baton run refuses a bad plan up front', () => {
  const cases: Array<[string, object, string]> = [
    ['cycle', { name: 'cyclic', phases: [fixturePhase(1), fixturePhase(3, [5]), fixturePhase(5, [3])] }, 'the plan has a dependency cycle: 3 -> 5 -> 3'],
    ['unknown dependency', { name: 'unknown-dep', phases: [fixturePhase(7, [12])] }, 'phase 7 depends on 12, which the plan does not define'],
    ['duplicate id', { name: 'dup-id', phases: [fixturePhase(1), fixturePhase(1)] }, 'phase id 1 is used by two phases ("Phase 1" and "Phase 1")'],
  ];
  for (const [what, plan, message] of cases) {
    it(`a ${what}`, async () => {
      const file = await writeJson(path.join(await tempDir(), 'plan.json'), plan);
      const result = await baton(['run', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user mistake
      expect(await runsOf((plan as { name: string }).name)).toBe(0);
    });
  }

  it('a plan file that is not JSON, naming the file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'plan.json');
    await (await import('node:fs/promises')).writeFile(file, '{ "name": "x", ');
    const result = await baton(['run', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file} is not valid JSON`);
  });

  it('the workflow itself refuses a bad plan started around the CLI, listing the problems', async () => {
    const client = await testClient();
    const handle = await client.workflow.start('phasedRun', {
      taskQueue: 'baton',
      workflowId: `raw-bad-${Date.now()}`,
      args: [{ plan: { name: 'raw-bad', phases: [fixturePhase(3, [5]), fixturePhase(5, [3])] } }],
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe('InvalidPlan');
    expect(cause.message).toContain('3 -> 5 -> 3');
  });
});
