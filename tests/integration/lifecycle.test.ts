/**
 * Temporal's own controls and Baton's files, with real workers: an abort cancels a phase and waits
 * for its processes before rolling it back, and leaves nothing pending; a terminated run drops out
 * of the README's queries; a reset run (by `baton reset --to-phase`, and by `temporal workflow
 * reset --event-id`) says so and from where, runs phases again as new generations without touching
 * the earlier files, and the replaced run's phase stops; runs of one plan side by side (and one
 * run id used twice) never share or append to each other's files.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import type { RunHandle } from '../../src/client/orchestrator.js';
import { baton, FIXTURES, fixturePhase, runDir, tempDir, until, workerForFile } from '../support/baton.js';
import { isAlive, waitForDeath } from '../support/processes.js';

const setup = workerForFile();
const LIFECYCLE = path.join(FIXTURES, 'lifecycle-phase.mjs');
const lifecyclePhase = (id: number, dependsOn: number[] = [], config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  id,
  name: `Phase ${id}`,
  depends_on: dependsOn,
  command: ['node', LIFECYCLE],
  config,
  ...extra,
});

async function temporal(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(inject('temporalBinary'), [...args, '--address', inject('temporalAddress')]);
  return stdout;
}

async function closed(run: RunHandle, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = (await run.workflow.describe()).status.name;
    if (status !== 'RUNNING' || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The workflow ids a visibility query returns once it has settled on `expected` (visibility lags the runs a moment). */
async function queryRuns(client: Client, query: string, expected: string[], timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found: string[] = [];
    for await (const wf of client.workflow.list({ query })) found.push(wf.workflowId);
    found.sort();
    if (JSON.stringify(found) === JSON.stringify([...expected].sort()) || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Pids of the processes that ran a phase's generation (lifecycle-phase.mjs records them). */
async function phasePids(workdir: string, phase: number, generation: number): Promise<number[]> {
  const dir = path.join(workdir, 'pids');
  if (!existsSync(dir)) return [];
  return (await readdir(dir)).filter((f) => f.startsWith(`phase_${phase}.g${generation}.`)).map((f) => Number(f.split('.').at(-1)));
}

async function waitFor<T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('abort', () => {
  it("waits for the phase's process tree to end before rolling it back, and leaves no activity pending", async () => {
    const workdir = await tempDir();
    const pidFile = path.join(workdir, 'pids.json');
    const checked = path.join(workdir, 'rollback-saw.json');
    const run = await setup.orchestrator.start({
      name: 'orderly-abort',
      workdir,
      phases: [
        fixturePhase(0),
        {
          id: 1,
          name: 'Tree',
          depends_on: [0],
          // A command with a child that ignores SIGTERM: only SIGKILL, after the 5 s grace, ends it.
          command: ['node', path.join(FIXTURES, 'process-tree.mjs'), pidFile, 'ignore-term'],
          compensate: ['node', path.join(FIXTURES, 'record-alive.mjs'), pidFile, checked],
        },
      ],
    });
    await until(run, 'phase 1 in flight', (s) => s.phases['1']!.state === 'running');
    await waitFor('the tree to start', async () => (existsSync(pidFile) ? true : undefined));
    const pids = JSON.parse(await readFile(pidFile, 'utf8')) as { command: number; grandchild: number };

    const abortedAt = Date.now();
    const aborted = await baton(['abort', run.runId]);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(await closed(run)).toBe('CANCELLED');
    const tookMs = Date.now() - abortedAt;
    const saw = JSON.parse(await readFile(checked, 'utf8')) as { at: number; command: boolean; grandchild: boolean };
    console.log(`orderly abort: run closed ${tookMs} ms after baton abort; the rollback started ${saw.at - abortedAt} ms after it`);
    expect(saw).toMatchObject({ command: false, grandchild: false });
    expect(pids.grandchild && isAlive(pids.grandchild)).toBe(false);

    const status = await run.status();
    expect(status.state).toBe('cancelled');
    expect(status.phases['1']).toMatchObject({ state: 'failed', error: 'cancelled: the run was aborted while this phase was in flight', compensation: { state: 'completed' } });
    // Nothing left pending on the closed run (the UI used to list the phase as CANCEL_REQUESTED).
    const described = JSON.parse(await temporal(['workflow', 'describe', '--workflow-id', run.runId, '--output', 'json'])) as { pendingActivities?: unknown[] };
    expect(described.pendingActivities ?? []).toEqual([]);
  });
});

describe('terminate', () => {
  it("the README's queries find exactly the live runs", async () => {
    const plan = `findable-${Date.now()}`;
    const start = (id: string, phase: ReturnType<typeof fixturePhase>) => setup.orchestrator.start({ name: plan, workdir: `/tmp/baton-test-${plan}`, phases: [phase] }, {}, { runId: `${plan}-${id}` });
    const held = [await start('held-live', fixturePhase(0, [], { fail_always: 'no' })), await start('held-gone', fixturePhase(0, [], { fail_always: 'no' }))];
    const waiting = [
      await start('agent-live', fixturePhase(0, [], {}, { use_separate_agent: true })),
      await start('agent-gone', fixturePhase(0, [], {}, { use_separate_agent: true })),
    ];
    const running = [await start('running-live', fixturePhase(0, [], { sleep_ms: 60_000 })), await start('running-gone', fixturePhase(0, [], { sleep_ms: 60_000 }))];
    for (const run of held) await until(run, 'the run to hold', (s) => s.state === 'held');
    for (const run of waiting) await until(run, 'the agent wait', (s) => s.phases['0']!.state === 'awaiting_agent');
    for (const run of running) await until(run, 'the phase to run', (s) => s.phases['0']!.state === 'running');
    const all = [...held, ...waiting, ...running].map((r) => r.runId);
    expect(await queryRuns(setup.orchestrator.client, `BatonPlan = '${plan}'`, all)).toEqual([...all].sort());

    for (const run of [held[1]!, waiting[1]!, running[1]!]) {
      await temporal(['workflow', 'terminate', '--workflow-id', run.runId, '--reason', 'test']);
    }
    const client = setup.orchestrator.client;
    const mine = ` AND BatonPlan = '${plan}'`;
    // The README's queries, as documented, each with the plan so that other tests' runs stay out.
    expect(await queryRuns(client, `ExecutionStatus = 'Running' AND BatonState = 'held'${mine}`, [held[0]!.runId])).toEqual([held[0]!.runId]);
    expect(await queryRuns(client, `ExecutionStatus = 'Running' AND BatonPhasesHeld = '0'${mine}`, [held[0]!.runId])).toEqual([held[0]!.runId]);
    expect(await queryRuns(client, `ExecutionStatus = 'Running' AND BatonAwaitingAgent = '0'${mine}`, [waiting[0]!.runId])).toEqual([waiting[0]!.runId]);
    expect(await queryRuns(client, `ExecutionStatus = 'Running' AND BatonPhasesRunning = '0'${mine}`, [running[0]!.runId])).toEqual([running[0]!.runId]);
    // What needs someone: any agent's wait, and held or waiting runs together.
    expect(await queryRuns(client, `ExecutionStatus = 'Running' AND BatonAwaitingAgent IS NOT NULL${mine}`, [waiting[0]!.runId])).toEqual([waiting[0]!.runId]);
    const needsYou = [held[0]!.runId, waiting[0]!.runId].sort();
    expect(await queryRuns(client, `ExecutionStatus = 'Running' AND (BatonState = 'held' OR BatonAwaitingAgent IS NOT NULL)${mine}`, needsYou)).toEqual(needsYou);
    // What the search attributes alone say: a terminated run cannot update its own, so it keeps them.
    expect(await queryRuns(client, `BatonState = 'held'${mine}`, [held[0]!.runId, held[1]!.runId])).toEqual([held[0]!.runId, held[1]!.runId].sort());
    const gone = await baton(['status', held[1]!.runId]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain(`run ${held[1]!.runId} was terminated`);
    expect(gone.stderr).toContain('(test)');
    for (const run of [held[0]!, waiting[0]!, running[0]!]) await run.abort();
  });
});

describe('reset', () => {
  it('baton reset --to-phase runs the phase again as a new generation, says so, keeps the earlier files, and stops the old copy', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'reset-to-phase',
      workdir,
      phases: [lifecyclePhase(0), lifecyclePhase(1, [0], { sleep_ms_g1: 60_000, sleep_ms: 500 }), lifecyclePhase(2, [1])],
    });
    await until(run, 'phase 1 in flight', (s) => s.phases['1']!.state === 'running');
    const [oldPid] = await waitFor('phase 1 to start', async () => {
      const pids = await phasePids(workdir, 1, 1);
      return pids.length > 0 ? pids : undefined;
    });
    const files = path.join(runDir(workdir, run.runId));
    const firstPackage = await readFile(path.join(files, 'handoffs/attempts/phase_1.g1.a1.json'), 'utf8');
    const baseRun = (await run.workflow.describe()).runId;

    const dry = await baton(['reset', run.runId, '--to-phase', '1', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const dryEvent = Number(/would reset run \S+ to event (\d+) of Temporal run/.exec(dry.stdout)?.[1]);
    expect(dry.stdout).toContain(`temporal workflow reset --workflow-id ${run.runId} --run-id ${baseRun} --event-id ${dryEvent}`);
    expect((await run.workflow.describe()).runId).toBe(baseRun); // a dry run resets nothing

    const resetAt = Date.now();
    const reset = await baton(['reset', run.runId, '--to-phase', '1', '--reason', 'phase 1 again']);
    expect(reset.code, reset.stderr).toBe(0);
    const eventId = Number(/to event (\d+) of Temporal run (\S+): the workflow task that started phase 1 \(generation 1\)/.exec(reset.stdout)?.[1]);
    expect(reset.stdout).toContain(`of Temporal run ${baseRun}:`);
    expect(eventId).toBe(dryEvent);
    expect(reset.stdout).toContain('run again, as new generations: phase 1');
    const newRun = /run (\S+) goes on from that point/.exec(reset.stdout)![1]!;
    expect(newRun).not.toBe(baseRun);

    // The replaced run's copy of phase 1 hears at its next heartbeat that its run is gone, and stops.
    expect(await waitForDeath([oldPid!], 15_000)).toEqual([]);
    console.log(`reset: the replaced run's phase process gone ${Date.now() - resetAt} ms after baton reset`);

    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    expect(status.resets).toEqual([{ run_id: newRun, base_run_id: baseRun, event_id: eventId, reason: 'phase 1 again', at: expect.any(String) }]);
    expect(status.phases['1']).toMatchObject({ state: 'completed', generation: 2 });
    expect(status.phases['1']!.context!.context.who).toContain(`g2 a1 of ${run.runId} (temporal run ${newRun})`);
    expect(status.phases['2']).toMatchObject({ state: 'completed', generation: 1 });
    expect(status.notices.some((n) => n.includes(`continues Temporal run ${baseRun} from its event ${eventId}`))).toBe(true);

    // The earlier generation's files are as they were; the new one has its own.
    expect(await readFile(path.join(files, 'handoffs/attempts/phase_1.g1.a1.json'), 'utf8')).toBe(firstPackage);
    expect(JSON.parse(await readFile(path.join(files, 'handoffs/attempts/phase_1.g2.a1.json'), 'utf8')).generation).toBe(2);
    expect(await readFile(path.join(files, 'logs/phase_1.g1.a1.stderr.log'), 'utf8')).toBe(`stderr of phase 1 g1 a1 of ${run.runId} (temporal run ${baseRun})\n`);
    expect(await readFile(path.join(files, 'logs/phase_1.g2.a1.stderr.log'), 'utf8')).toBe(`stderr of phase 1 g2 a1 of ${run.runId} (temporal run ${newRun})\n`);

    const details = (await run.workflow.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails;
    expect(details).toContain(`continues Temporal run \`${baseRun}\` from its event ${eventId}`);
    const history = await baton(['history', run.runId]);
    expect(history.stdout).toContain(`run reset (phase 1 again): Temporal run ${baseRun} was reset to its event ${eventId} and ended; run ${newRun} goes on from there`);
    expect(history.stdout).toMatch(/phase 1 gen 2 attempt 1: completed/);
    expect((await baton(['status', run.runId])).stdout).toContain(`reset (phase 1 again) at ${status.resets![0]!.at}: continues Temporal run ${baseRun} from its event ${eventId}`);
  });

  it('temporal workflow reset --event-id with a phase in flight: the phase is dispatched again with its own files, and the old copy stops', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'reset-event',
      workdir,
      phases: [lifecyclePhase(0), lifecyclePhase(1, [0], { sleep_ms: 8_000 }), lifecyclePhase(2, [1])],
    });
    const baseRun = (await run.workflow.describe()).runId;
    await until(run, 'phase 1 in flight', (s) => s.phases['1']!.state === 'running');
    const [oldPid] = await waitFor('phase 1 to start', async () => {
      const pids = await phasePids(workdir, 1, 1);
      return pids.length > 0 ? pids : undefined;
    });
    // A workflow task completed after phase 1 was scheduled: at that point phase 1 is in flight.
    const eventId = await waitFor('a workflow task after phase 1 started', async () => {
      const events = (await run.workflow.fetchHistory()).events ?? [];
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runPhase' && e.activityTaskScheduledEventAttributes.activityId?.startsWith('phase-1-'));
      const after = scheduled && events.find((e) => Number(e.eventId) > Number(scheduled.eventId) && e.workflowTaskCompletedEventAttributes);
      return after ? Number(after.eventId) : undefined;
    });
    await temporal(['workflow', 'reset', '--workflow-id', run.runId, '--event-id', String(eventId), '--reason', 'in flight']);
    const resetAt = Date.now();
    expect(await waitForDeath([oldPid!], 15_000)).toEqual([]);
    console.log(`reset --event-id: the replaced run's phase process gone ${Date.now() - resetAt} ms after the reset`);

    const status = await run.finalStatus();
    const newRun = (await run.workflow.describe()).runId;
    expect(status.state).toBe('completed');
    expect(status.resets).toEqual([{ run_id: newRun, base_run_id: baseRun, event_id: eventId, reason: expect.stringContaining('in flight'), at: expect.any(String) }]);
    // Dispatched again by the server with the same package: the same generation, files of its own.
    expect(status.phases['1']).toMatchObject({ state: 'completed', generation: 1 });
    const logs = path.join(runDir(workdir, run.runId), 'logs');
    expect(await readFile(path.join(logs, 'phase_1.g1.a1.stderr.log'), 'utf8')).toBe(`stderr of phase 1 g1 a1 of ${run.runId} (temporal run ${baseRun})\n`);
    expect(await readFile(path.join(logs, `phase_1.g1.run-${newRun}.a1.stderr.log`), 'utf8')).toBe(`stderr of phase 1 g1 a1 of ${run.runId} (temporal run ${baseRun})\n`);
    const attempts = await readdir(path.join(runDir(workdir, run.runId), 'handoffs/attempts'));
    expect(attempts.filter((f) => f.startsWith('phase_1.')).sort()).toEqual(['phase_1.g1.a1.json', `phase_1.g1.run-${newRun}.a1.json`]);
  });

  it('baton reset --to-phase into an earlier segment of a run that continued as new: every later segment ends, and every phase gets a generation beyond theirs', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start(
      { name: 'reset-continued', workdir, phases: [lifecyclePhase(0), lifecyclePhase(1, [0]), lifecyclePhase(2, [1], { sleep_ms_g1: 60_000 })] },
      { continue_as_new_after_phases: 1 },
    );
    const first = (await run.workflow.describe()).runId;
    await until(run, 'phase 2 in flight in a later segment', (s) => s.phases['2']?.state === 'running' && (s.continued?.segment ?? 0) >= 2);
    const [oldPid] = await waitFor('phase 2 to start', async () => {
      const pids = await phasePids(workdir, 2, 1);
      return pids.length > 0 ? pids : undefined;
    });
    const reset = await baton(['reset', run.runId, '--to-phase', '0']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain(`of Temporal run ${first}: the workflow task that started phase 0 (generation 1)`);
    expect(await waitForDeath([oldPid!], 15_000)).toEqual([]);

    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    expect(status.resets?.map((r) => r.base_run_id)).toEqual([first]);
    // Phases 1 and 2 ran (generation 1) in segments the reset ended, not in the run it reset: found all the same.
    for (const key of ['0', '1', '2']) expect(status.phases[key], key).toMatchObject({ state: 'completed', generation: 2 });
  });

  it('a run that continued as new is not taken for a reset one', async () => {
    const run = await setup.orchestrator.start({ name: 'continued-not-reset', workdir: await tempDir(), phases: [fixturePhase(0), fixturePhase(1, [0]), fixturePhase(2, [1])] }, { continue_as_new_after_phases: 1 });
    const status = await run.finalStatus();
    expect(status.continued?.segment).toBeGreaterThanOrEqual(2);
    expect(status.resets).toBeUndefined();
    expect(status.notices.filter((n) => n.includes('reset'))).toEqual([]);
  });
});

describe('runs of one plan', () => {
  it('side by side, and one run id used twice, each quote only their own stderr and keep their own files', async () => {
    const workdir = await tempDir();
    const plan = { name: 'side-by-side', workdir, phases: [lifecyclePhase(0, [], { sleep_ms: 1500, fail_run: '-fails' })] };
    const config = { failed_phase_policy: 'fail' as const };
    const stamp = Date.now();
    const [ok, fails] = await Promise.all([
      setup.orchestrator.start(plan, config, { runId: `side-${stamp}-ok` }),
      setup.orchestrator.start(plan, config, { runId: `side-${stamp}-fails` }),
    ]);
    const [okStatus, failStatus] = await Promise.all([ok.finalStatus(), fails.finalStatus()]);
    const okRun = okStatus.phases['0']!.context!.context.who as string;
    expect(okStatus.state).toBe('completed');
    expect(okRun).toContain(`of ${ok.runId} `);
    expect(failStatus.state).toBe('failed');
    const error = failStatus.phases['0']!.error!;
    expect(error).toContain(`stderr of phase 0 g1 a1 of ${fails.runId} `);
    expect(error).not.toContain(ok.runId);
    expect(error).toContain(`(full log: ${path.join(runDir(workdir, fails.runId), 'logs/phase_0.g1.a1.stderr.log')})`);
    const committed = JSON.parse(await readFile(path.join(runDir(workdir, ok.runId), 'outputs/phase_0.json'), 'utf8'));
    expect(committed).toMatchObject({ execution_id: ok.runId, context: { who: okRun } });
    expect(existsSync(path.join(runDir(workdir, fails.runId), 'outputs/phase_0.json'))).toBe(false);

    // The failing run's id used again for a new run: its attempt's files take the next free name.
    const firstTemporalRun = /temporal run (\S+)\)/.exec(error)![1]!;
    const again = await setup.orchestrator.start(plan, config, { runId: fails.runId });
    const againStatus = await again.finalStatus();
    const againError = againStatus.phases['0']!.error!;
    const secondTemporalRun = (await again.workflow.describe()).runId;
    expect(againError).toContain(`(temporal run ${secondTemporalRun})`);
    expect(againError).not.toContain(firstTemporalRun);
    expect(againError).toContain(`(full log: ${path.join(runDir(workdir, fails.runId), 'logs/phase_0.g1.a1.2.stderr.log')})`);
    const firstLog = await readFile(path.join(runDir(workdir, fails.runId), 'logs/phase_0.g1.a1.stderr.log'), 'utf8');
    expect(firstLog).toContain(`(temporal run ${firstTemporalRun})`);
    expect(firstLog).not.toContain(secondTemporalRun);
  });
});
