/**
 * Operating runs as users do: from the plain `temporal` CLI (and `baton` as a convenience):
 * pause and resume, retry with overrides, skip, re-run with pinned or refreshed inputs, abort
 * with rollback, resume from an earlier run, and the audit trail.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import type { RunStatus } from '../../src/core/api/status.js';
import { baton, findRuns, fixturePhase, runDir, tempDir, until, workerForFile, writeJson } from '../support/baton.js';

const setup = workerForFile();

/** `temporal workflow signal`, exactly as a user types it. */
async function temporalSignal(runId: string, name: string, input?: unknown): Promise<void> {
  const args = ['workflow', 'signal', '--workflow-id', runId, '--name', name, '--address', inject('temporalAddress')];
  if (input !== undefined) args.push('--input', JSON.stringify(input));
  await promisify(execFile)(inject('temporalBinary'), args);
}


const shell = (script: string) => ['sh', '-c', script];

describe('operating a run', () => {
  it('pause stops new phases while those in flight finish; resume continues', async () => {
    const run = await setup.orchestrator.start({
      name: 'pausing',
      workdir: await tempDir(),
      phases: [fixturePhase(0, [], { sleep_ms: 1500 }), fixturePhase(1, [], { sleep_ms: 1500 }), fixturePhase(2, [0, 1])],
    });
    await until(run, 'both in flight', (s) => s.phases['0']!.state === 'running' && s.phases['1']!.state === 'running');
    await temporalSignal(run.runId, 'pause');
    const paused = await until(run, 'in-flight phases to finish', (s) => s.phases['0']!.state === 'completed' && s.phases['1']!.state === 'completed');
    expect(paused.paused).toBe(true);
    expect(paused.state).toBe('paused');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await run.status()).phases['2']!.state).not.toBe('completed'); // nothing new started while paused
    expect((await run.status()).phases['2']!.started_at).toBeNull();
    const resumed = await baton(['resume', run.runId]);
    expect(resumed.code).toBe(0);
    expect((await run.finalStatus()).state).toBe('completed');
  });

  it('a failed phase holds the run; retryPhase with another resource class completes it', async () => {
    const run = await setup.orchestrator.start({
      name: 'retry-gpu',
      workdir: await tempDir(),
      phases: [
        fixturePhase(0),
        { id: 1, name: 'Needs a GPU', depends_on: [0], command: shell('test "$BATON_TASK_QUEUE" = baton-gpu || { echo "no GPU on $BATON_TASK_QUEUE" >&2; exit 1; }') },
        fixturePhase(2, [1]),
      ],
    });
    const held = await until(run, 'the run to hold', (s) => s.state === 'held');
    expect(held.held_reason).toContain('phase 1 (Needs a GPU) failed: phase 1 (Needs a GPU) exited with code 1: no GPU on baton-default');

    // Findable by state, as in the UI's filter.
    expect(await findRuns(setup.orchestrator.client, `BatonState = 'held' AND BatonPhasesHeld = '1'`, run.runId)).toContain(run.runId);

    await temporalSignal(run.runId, 'retryPhase', { phase: 1, resource_class: 'gpu' });
    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    expect(status.phases['1']).toMatchObject({ state: 'completed', task_queue: 'baton-gpu', generation: 2, override: { resource_class: 'gpu' } });
  });

  it('retryPhase with a longer timeout and changed config', async () => {
    const run = await setup.orchestrator.start({ name: 'retry-timeout', workdir: await tempDir(), phases: [fixturePhase(0, [], { sleep_ms: 4000 }, { timeout_s: 1 })] });
    const held = await until(run, 'the timeout', (s) => s.state === 'held');
    expect(held.phases['0']!.error).toMatch(/timeout/i);
    await baton(['retry', run.runId, '0']); // no override: times out again
    await until(run, 'the second timeout', (s) => s.state === 'held' && s.phases['0']!.generation === 2);
    await temporalSignal(run.runId, 'retryPhase', { phase: 0, timeout_s: 30, config: { sleep_ms: 50 } });
    const status = await run.finalStatus();
    expect(status.phases['0']).toMatchObject({ state: 'completed', generation: 3, override: { timeout_s: 30, config: { sleep_ms: 50 } } });
  });

  it('refuses a bad signal with a notice and carries on', async () => {
    const run = await setup.orchestrator.start({ name: 'bad-signals', workdir: await tempDir(), phases: [fixturePhase(0, [], { fail_always: 'nope' })] });
    await until(run, 'hold', (s) => s.state === 'held');
    await temporalSignal(run.runId, 'retryPhase', 'oops');
    await temporalSignal(run.runId, 'retryPhase', { phase: 42 });
    await temporalSignal(run.runId, 'retryPhase', { phase: 0, resource_class: 'tpu' });
    await temporalSignal(run.runId, 'skipPhase', {});
    const status = await until(run, 'four notices', (s) => s.notices.length === 4);
    expect(status.notices[0]).toMatch(/^retryPhase: .*got "oops"$/);
    expect(status.notices[1]).toBe('retryPhase: the plan has no phase 42; phases are 0');
    expect(status.notices[2]).toBe('retryPhase: resource class "tpu" is not declared; use one of: default, gpu');
    expect(status.notices[3]).toBe('skipPhase: "phase" is missing; it must be a whole number ≥ 0, or a word of letters, digits, ".", "_" and "-" (ids name files and scripts); expected {"phase": <id>}, got {}');
    expect(status.state).toBe('held');
    await temporalSignal(run.runId, 'skipPhase', { phase: 0 });
    expect((await run.finalStatus()).phases['0']!.state).toBe('skipped');
  });

  it('skipping a failed phase runs its rollback and lets its dependants run', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'skip-rollback',
      workdir,
      phases: [
        { id: 0, name: 'Half done', command: shell('echo partial > "$BATON_WORKDIR/partial.txt"; exit 1'), compensate: shell('rm "$BATON_WORKDIR/partial.txt" && echo "rolled back phase $BATON_PHASE" > "$BATON_WORKDIR/rollback.txt"') },
        fixturePhase(1, [0]),
      ],
    });
    await until(run, 'hold', (s) => s.state === 'held');
    expect(existsSync(path.join(workdir, 'partial.txt'))).toBe(true);
    expect((await baton(['skip', run.runId, '0'])).code).toBe(0);
    const status = await run.finalStatus();
    expect(status.phases['0']!.state).toBe('skipped');
    expect(status.phases['0']!.compensation!.state).toBe('completed');
    expect(status.phases['1']!.state).toBe('completed');
    expect(existsSync(path.join(workdir, 'partial.txt'))).toBe(false);
    expect(await readFile(path.join(workdir, 'rollback.txt'), 'utf8')).toBe('rolled back phase 0\n');
  });

  it('abort cancels the phase in flight, rolls it back, and the run ends cancelled with its status', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'abort-rollback',
      workdir,
      phases: [fixturePhase(0), { ...fixturePhase(1, [0], { sleep_ms: 20_000 }), compensate: shell('touch "$BATON_WORKDIR/undone"') }],
    });
    await until(run, 'phase 1 in flight', (s) => s.phases['1']!.state === 'running');
    await promisify(execFile)(inject('temporalBinary'), ['workflow', 'cancel', '--workflow-id', run.runId, '--address', inject('temporalAddress')]);
    for (let i = 0; i < 100 && (await run.workflow.describe()).status.name === 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 150));
    expect((await run.workflow.describe()).status.name).toBe('CANCELLED');
    const status = await run.status();
    expect(status.state).toBe('cancelled');
    expect(status.phases['0']!.state).toBe('completed');
    expect(status.phases['1']).toMatchObject({ state: 'failed', error: 'cancelled: the run was aborted while this phase was in flight', compensation: { state: 'completed' } });
    expect(existsSync(path.join(workdir, 'undone'))).toBe(true);
    const cli = JSON.parse((await baton(['status', run.runId, '--json'])).stdout) as RunStatus;
    expect(cli.state).toBe('cancelled');
  });

  it('re-runs a completed phase pinned to its inputs by hash, unless asked to refresh them', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'rerun',
      workdir,
      phases: [fixturePhase(0, [], { artifact: 'report' }), fixturePhase(1, [0]), fixturePhase('hold-open', [], {}, { use_separate_agent: true })],
    });
    const first = await until(run, 'phase 1', (s) => s.phases['1']!.state === 'completed');
    const pinned = first.phases['0']!.context!.artifacts.report!;

    await writeFile(path.join(workdir, pinned.path), 'edited by hand\n');
    await baton(['retry', run.runId, '1']);
    const refused = await until(run, 'phase 1 to fail on the changed file', (s) => s.phases['1']!.state === 'failed');
    expect(refused.phases['1']!.error).toContain('dependency_contexts["0"].artifacts.report: artifacts/0.txt has changed since it was recorded');

    await temporalSignal(run.runId, 'retryPhase', { phase: 1, refresh: true });
    const refreshed = await until(run, 'phase 1 again', (s) => s.phases['1']!.state === 'completed' && s.phases['1']!.generation === 3);
    const pkg = JSON.parse(await readFile(path.join(runDir(workdir, run.runId), 'handoffs/phase_1.json'), 'utf8'));
    expect(pkg.generation).toBe(3);
    expect(pkg.dependency_contexts['0'].artifacts.report.sha256).not.toBe(pinned.sha256);
    expect(refreshed.phases['0']!.context!.artifacts.report!.sha256).toBe(pkg.dependency_contexts['0'].artifacts.report.sha256);

    await baton(['retry', run.runId, '0', '--downstream']);
    const again = await until(run, 'both re-run', (s) => s.phases['0']!.generation === 2 && s.phases['1']!.generation === 4 && s.phases['1']!.state === 'completed');
    expect(again.phases['hold-open']!.generation).toBe(1); // untouched
    await run.abort();
  });

  it('resumes from an earlier run: reuses its completed, unchanged phases and runs the rest', async () => {
    const dir = await tempDir();
    const plan = (fixed: boolean) => ({
      name: 'resumable',
      workdir: 'wd',
      phases: [fixturePhase(0, [], { artifact: 'report' }), fixturePhase(1, [0]), fixturePhase(2, [1], fixed ? {} : { fail_always: 'bug in phase 2' })],
    });
    const broken = await writeJson(path.join(dir, 'plan.json'), plan(false));
    const config = await writeJson(path.join(dir, 'config.json'), { failed_phase_policy: 'fail' });
    const first = await baton(['run', broken, '--config', config, '--id', `resumable-a-${Date.now()}`]);
    expect(first.code).toBe(1);
    const firstId = first.stdout.match(/started run (\S+)/)![1]!;

    await writeJson(path.join(dir, 'plan.json'), plan(true));
    const second = await baton(['run', broken, '--config', config, '--resume-from', firstId, '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`reusing phases 0, 1 from run ${firstId}`);
    expect(second.stderr).toContain(`phase 2 runs again: it did not complete in ${firstId}`);
    const status = JSON.parse(second.stdout) as RunStatus;
    expect(status.phases['0']).toMatchObject({ state: 'completed', reused_from: firstId, attempts: 0 });
    expect(status.phases['1']).toMatchObject({ state: 'completed', reused_from: firstId, attempts: 0 });
    expect(status.phases['2']!.reused_from).toBeUndefined();
    expect(status.phases['2']!.context!.context.dependency_keys).toEqual(['1']);

    // A file changed since: the phase that made it, and everything after it, run again.
    await rm(path.join(dir, 'wd', status.phases['0']!.context!.artifacts.report!.path));
    const third = await baton(['run', broken, '--config', config, '--resume-from', status.execution_id]);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain('reusing no phase');
    expect(third.stdout).toMatch(/phase 0 runs again: its files changed: artifacts\/0\.txt does not exist/);
    expect(third.stdout).toContain('phase 1 runs again: it depends on 0, which run again');
  });

  it('baton history renders the audit trail from Temporal history', async () => {
    const run = await setup.orchestrator.start({ name: 'audited', workdir: await tempDir(), phases: [fixturePhase(0, [], { fail_until_attempt: 2 }, { retries: 1 }), fixturePhase(1, [0], { fail_always: 'x' })] });
    await until(run, 'hold', (s) => s.state === 'held');
    await temporalSignal(run.runId, 'skipPhase', { phase: 1 });
    await run.finalStatus();
    const history = await baton(['history', run.runId]);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain('run started: plan "audited" with 2 phases');
    expect(history.stdout).toMatch(/phase 0 \(Phase 0\) completed on \S+ after 2 attempt\(s\), package sha256:[0-9a-f]{64}/);
    expect(history.stdout).toContain('signal skipPhase {"phase":1}');
    expect(history.stdout).toMatch(/phase 0 gen 1 attempt 2: completed in [\d.]+s on baton-default by \S+, package sha256:/);
    expect(history.stdout).toMatch(/the attempt before failed: phase 0 \(Phase 0\) exited with code 1: failing on purpose on attempt 1/);
    expect(history.stdout).toContain('run completed');
    const json = JSON.parse((await baton(['history', run.runId, '--json'])).stdout);
    expect(json.attempts.filter((a: { phase: string }) => a.phase === '0').map((a: { attempt: number }) => a.attempt)).toEqual([2]);
  });
});
