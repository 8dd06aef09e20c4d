/**
 * The operations as updates, on a live run: pause, resume, retryPhase and skipPhase answer what they
 * did and refuse a bad request at once with the reason (from `baton`, the Temporal CLI and the
 * client); markPhaseDone completes a failed phase with an operator's output, refused first by its
 * output_schema; handPhase moves phases between external agents and workers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { baton, fixturePhase, temporal, tempDir, until, workerForFile, writeJson } from '../support/baton.js';

const setup = workerForFile();

/**
 * `temporal workflow update execute`, as a user types it: resolves with stdout, rejects with stderr.
 * Temporal fails an update whose workflow task failed (`… unexpected workflow task failure`; seen once in
 * about eight runs of this file on a loaded machine, cause not established): nothing of it was
 * recorded, so it is sent again, as a user would, and the failed tasks are printed for diagnosis.
 */
async function update(runId: string, name: string, input?: unknown): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await temporal(['workflow', 'update', 'execute', '--workflow-id', runId, '--name', name, ...(input === undefined ? [] : ['--input', JSON.stringify(input)])]);
    } catch (err) {
      if (attempt >= 3 || !/unexpected workflow task failure/.test((err as Error).message)) throw err;
      const history = await setup.orchestrator.client.workflow.getHandle(runId).fetchHistory();
      const failed = (history.events ?? []).flatMap((e) => (e.workflowTaskFailedEventAttributes ? [JSON.stringify(e.workflowTaskFailedEventAttributes)] : []));
      console.warn(`${name} to ${runId} failed with its workflow task (attempt ${attempt}); failed tasks in history: ${failed.join('\n') || 'none'}`);
    }
  }
}

describe('operations as updates', () => {
  it('retry, skip, pause and resume answer what they did; a bad request is refused at once with the reason', async () => {
    const run = await setup.orchestrator.start({
      name: 'ops-updates',
      workdir: await tempDir(),
      phases: [fixturePhase(1, [], { fail_always: 'broken on purpose' }), fixturePhase(2, [1]), fixturePhase(3, [], { fail_always: 'also broken' })],
    });
    await until(run, 'the run to hold', (s) => s.state === 'held');

    // Refused at once, in the words the Web UI's dialog shows too; nothing changed.
    await expect(update(run.runId, 'retryPhase', { phase: 7 })).rejects.toThrow('retryPhase: no phase 7; phases are 1, 2, 3');
    const cli = await baton(['retry', run.runId, '7']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('retryPhase: no phase 7; phases are 1, 2, 3');
    await expect(run.skip(2)).resolves.toBeDefined(); // pending: may be skipped …
    await expect(run.retry(2)).resolves.toMatchObject({ phase: { state: 'pending' } }); // … and a skipped phase retried
    await expect(run.retry(2)).rejects.toThrow(
      'retryPhase: phase 2 is pending; only a failed, completed or skipped phase can be retried: it has not run yet: it waits for phase 1, which failed; retry or skip that one (retryPhase {"phase": 1})',
    );
    await expect(update(run.runId, 'pause', { reason: 'lunch' })).rejects.toThrow('pause: takes no input (send nothing, or {})');
    expect((await run.status()).notices).toEqual([]);

    const paused = await baton(['pause', run.runId]);
    expect(paused.stdout).toContain(`${run.runId}: paused: no new phase starts until resume`);
    expect((await baton(['pause', run.runId])).stdout).toContain('the run was already paused; nothing changed');
    const retried = await run.retry(1, { config: { fail_always: '' } });
    expect(retried).toMatchObject({ run_state: 'paused', phase: { id: 1, state: 'pending', generation: 1 } });
    expect(retried.message).toBe('phase 1 (Phase 1) runs again as generation 2 with config changed; the run is paused: it starts once the run is resumed');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await run.status()).phases['1']!.state).toBe('pending');

    expect(await update(run.runId, 'resume')).toContain('resumed: phases whose dependencies are done start again');
    await until(run, 'phases 1 and 2 to complete', (s) => s.phases['1']!.state === 'completed' && s.phases['2']!.state === 'completed');
    const skipped = await update(run.runId, 'skipPhase', { phase: 3 });
    expect(skipped).toContain('phase 3 (Phase 3) is skipped');
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['1']).toMatchObject({ state: 'completed', generation: 2 });
    expect(final.phases['3']!.state).toBe('skipped');
  });

  it('marks a failed phase done with an output: refused by its output_schema first, then accepted; its dependant runs on it', async () => {
    const workdir = await tempDir();
    const schema = { type: 'object', required: ['report_path'], properties: { report_path: { type: 'string', minLength: 1 }, value: { type: 'integer' } } };
    const run = await setup.orchestrator.start({
      name: 'ops-mark-done',
      workdir,
      phases: [fixturePhase(1, [], { fail_always: 'the service is down' }, { output_schema: schema }), fixturePhase(2, [1])],
    });
    await until(run, 'the run to hold', (s) => s.state === 'held');

    const bad = await writeJson(path.join(workdir, 'bad.json'), { context: { report: 'no path' } });
    const refused = await baton(['mark-done', run.runId, '1', '--output', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("output.context: must have required property 'report_path' (the plan's output_schema)");
    expect((await run.status()).phases['1']!.state).toBe('failed');
    await expect(run.markDone(1, { context: { report_path: 'out/report.md' }, artifacts: { report: 'out/missing.md' } })).rejects.toThrow(/output\.artifacts: artifact "report" points at out\/missing\.md, which is not a file in the workdir/);

    await mkdir(path.join(workdir, 'out'), { recursive: true });
    await writeFile(path.join(workdir, 'out/report.md'), '# done by hand\n');
    const good = await writeJson(path.join(workdir, 'good.json'), { context: { report_path: 'out/report.md', value: 41 }, artifacts: { report: 'out/report.md' } });
    const accepted = await baton(['mark-done', run.runId, '1', '--output', good, '--by', 'tester', '--reason', 'ran the export by hand']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toContain('phase 1 (Phase 1), failed, is completed with the output tester gave (2 context keys, 1 artifact); phase 2 may start now');

    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['1']).toMatchObject({ state: 'completed', generation: 1, provenance: { via: 'operator', executed_by: 'tester', reason: 'ran the export by hand' } });
    expect(final.phases['1']!.error).toBeUndefined();
    expect(final.phases['1']!.context!.artifacts.report).toMatchObject({ path: 'out/report.md', size: 15 });
    expect(final.phases['2']!.context!.context.dependency_values).toEqual({ 1: 41 });
  });

  it('hands an agent phase back to a worker, and a pending phase to an agent and back', async () => {
    const run = await setup.orchestrator.start({
      name: 'ops-hand',
      workdir: await tempDir(),
      phases: [fixturePhase(1, [], {}, { use_separate_agent: true, agent_timeout_s: 600 }), fixturePhase(2, [1])],
    });
    await until(run, 'phase 1 to await an agent', (s) => s.phases['1']!.state === 'awaiting_agent');
    await expect(run.hand(1, 'agent')).rejects.toThrow(/^handPhase: phase 1 is already awaiting an agent \(its package: .*phase_1\.json\); nothing to hand$/);

    const toAgent = await baton(['hand', run.runId, '2', '--to', 'agent']);
    expect(toAgent.stdout).toContain('phase 2 (Phase 2) goes to an external agent when it starts');
    const back = await baton(['hand', run.runId, '1', '--to', 'worker']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('phase 1 (Phase 1) no longer waits for an agent: a worker on baton-default runs it now, as generation 2');

    const waiting = await until(run, 'phase 2 to await an agent', (s) => s.phases['2']!.state === 'awaiting_agent');
    expect(waiting.phases['1']).toMatchObject({ state: 'completed', generation: 2, provenance: { via: 'worker' } });
    expect(waiting.phases['1']!.agent_fallback).toContain('an operator handed it to a worker on baton-default (handPhase)');
    expect(await update(run.runId, 'handPhase', { phase: 2, to: 'worker' })).toContain('no longer waits for an agent');
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['2']).toMatchObject({ state: 'completed', generation: 2 });
  });
});
