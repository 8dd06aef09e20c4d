/**
 * Plans running end to end on a real dev server, with real worker processes.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HandoffPackageSchema } from '../../src/core/handoff/schema.js';
import { baton, fixturePhase, FIXTURES, runDir, tempDir, until, workerForFile, writeJson } from '../support/baton.js';

const setup = workerForFile(['--handlers', path.join(FIXTURES, 'handlers.mjs')]);

describe('phasedRun', () => {
  it('runs a diamond, each phase seeing exactly its dependencies', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'diamond',
      workdir,
      phases: [fixturePhase(0), fixturePhase(1, [0]), fixturePhase(2, [0]), fixturePhase(3, [1, 2])],
    });
    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    const last = status.phases['3']!.context!.context;
    expect(last.dependency_keys).toEqual(['1', '2']);
    // value = 1 + sum of dependency values: 0 → 1; 1, 2 → 2; 3 → 1 + 2 + 2.
    expect(last.value).toBe(5);
    expect(last.run).toBe(run.runId);
    expect(status.phases['1']!.context!.context.dependency_keys).toEqual(['0']);

    // Every phase's package was written, valid, and bound to this run.
    for (const key of ['0', '1', '2', '3']) {
      const pkg = HandoffPackageSchema.parse(JSON.parse(await readFile(path.join(runDir(workdir, run.runId), 'handoffs', `phase_${key}.json`), 'utf8')));
      expect(pkg.execution_id).toBe(run.runId);
      expect(existsSync(path.join(runDir(workdir, run.runId), 'handoffs', `execute_phase_${key}.sh`))).toBe(true);
    }
    const exported = JSON.parse(await readFile(path.join(workdir, 'execution_context.json'), 'utf8'));
    expect(exported.phases['3'].context).toEqual(status.phases['3']!.context);
  });

  it('keeps execution_context.json current while the run is busy, not only at the end', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({ name: 'exports', workdir, phases: [fixturePhase(0), fixturePhase(1, [0], { sleep_ms: 4000 })] });
    await until(run, 'phase 1 to run', (s) => s.phases['1']!.state === 'running');
    const file = path.join(workdir, 'execution_context.json');
    let exported: { execution_id?: string; phases?: Record<string, { state: string }> } = {};
    for (let i = 0; i < 60 && exported.phases?.['0']?.state !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (existsSync(file)) exported = JSON.parse(await readFile(file, 'utf8'));
    }
    expect(exported.execution_id).toBe(run.runId);
    expect(exported.phases?.['0']?.state).toBe('completed');
    expect(exported.phases?.['1']?.state).toBe('running');
    const status = await run.finalStatus();
    expect(status.notices).toEqual([]); // no export failed
  });

  it('runs a fan-out in parallel: the phases overlap in time', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start(
      {
        name: 'fanout',
        workdir,
        phases: [fixturePhase(0), ...[1, 2, 3].map((i) => fixturePhase(i, [0], { sleep_ms: 1500 })), fixturePhase(4, [1, 2, 3])],
      },
      { max_parallel_phases: 4 },
    );
    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    const spans = [1, 2, 3].map((i) => status.phases[String(i)]!.context!.context as { ran_from: number; ran_to: number });
    const latestStart = Math.max(...spans.map((s) => s.ran_from));
    const earliestEnd = Math.min(...spans.map((s) => s.ran_to));
    expect(latestStart).toBeLessThan(earliestEnd); // all three were running at one moment
  });

  it('respects max_parallel_phases', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start(
      { name: 'serial', workdir, phases: [1, 2, 3].map((i) => fixturePhase(i, [], { sleep_ms: 300 })) },
      { max_parallel_phases: 1 },
    );
    const status = await run.finalStatus();
    const spans = [1, 2, 3].map((i) => status.phases[String(i)]!.context!.context as { ran_from: number; ran_to: number }).sort((a, b) => a.ran_from - b.ran_from);
    expect(spans[1]!.ran_from).toBeGreaterThanOrEqual(spans[0]!.ran_to);
    expect(spans[2]!.ran_from).toBeGreaterThanOrEqual(spans[1]!.ran_to);
  });

  it('retries a failing phase until it succeeds, counting attempts', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({ name: 'flaky', workdir, phases: [fixturePhase(0, [], { fail_until_attempt: 2 }, { retries: 2 })] });
    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    expect(status.phases['0']!.attempts).toBe(2);
    expect(status.phases['0']!.context!.context.attempt).toBe(2);
    const firstErr = await readFile(path.join(runDir(workdir, run.runId), 'logs', 'phase_0.g1.a1.stderr.log'), 'utf8');
    expect(firstErr).toContain('failing on purpose on attempt 1');
  });

  it('runs handler phases registered with the worker', async () => {
    const run = await setup.orchestrator.start({
      name: 'handlers',
      workdir: await tempDir(),
      phases: [
        { id: 'a', name: 'Double x', handler: 'double', config: { x: 21 } },
        { id: 'b', name: 'Double a', handler: 'double', depends_on: ['a'], config: { from: 'a' } },
      ],
    });
    const status = await run.finalStatus();
    expect(status.phases.b!.context!.context.value).toBe(84);
  });

  it('holds on a phase that exhausts its retries; baton run exits non-zero naming it', async () => {
    const dir = await tempDir();
    const plan = await writeJson(path.join(dir, 'plan.json'), {
      name: 'broken',
      workdir: 'wd',
      phases: [fixturePhase(0), fixturePhase(1, [0], { fail_always: 'the disk is full' }, { retries: 1 }), fixturePhase(2, [1])],
    });
    const result = await baton(['run', plan, '--id', `broken-${Date.now()}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('phase 1 (Phase 1) failed: phase 1 (Phase 1) exited with code 1: the disk is full');
    expect(result.stderr).toMatch(/holds for an operator: baton retry broken-\d+ <phase>/);
    const status = JSON.parse((await baton(['status', result.stdout.match(/started run (\S+)/)![1]!, '--json'])).stdout);
    expect(status.state).toBe('held');
    expect(status.phases['1'].attempts).toBe(2);
    expect(status.phases['2'].state).toBe('pending');
    await setup.orchestrator.run(status.execution_id).abort();
  });

  it('ends the run failed under failed_phase_policy "fail", with --json status', async () => {
    const dir = await tempDir();
    const plan = await writeJson(path.join(dir, 'plan.json'), { name: 'failing', phases: [fixturePhase(0, [], { fail_always: 'nope' })] });
    const config = await writeJson(path.join(dir, 'config.json'), { failed_phase_policy: 'fail' });
    const result = await baton(['run', plan, '--config', config, '--json']);
    expect(result.code).toBe(1);
    const status = JSON.parse(result.stdout);
    expect(status.state).toBe('failed');
    expect(status.phases['0'].error).toContain('nope');
  });
});
