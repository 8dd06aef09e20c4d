/**
 * The bad-input catalogue, part 4: what is too large, too deep or out of range, sent to a live run
 * or to Temporal directly. Each used to freeze a run (every workflow task failing, `status`
 * failing, `baton abort` unable to end it) or to wedge it in silence; now each is refused with the
 * limit before anything is recorded, or bounded, and the run still answers `status` within a
 * second, can be aborted, and loses nothing. (Signals past Temporal's limit per execution, and a
 * server restart, are in signal-limits.test.ts, on a server of their own.)
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import type { RunHandle } from '../../src/client/orchestrator.js';
import type { RunStatus } from '../../src/core/api/status.js';
import type { AgentResult } from '../../src/core/handoff/result.js';
import { baton, fixturePhase, tempDir, until, workerForFile, writeJson } from '../support/baton.js';

const setup = workerForFile();

/**
 * The run's status, which must come within a second, and its size as JSON. Asked once before it is
 * timed: a query waits for the workflow task in progress, and a run's first (checking a plan of
 * 10,000 phases) takes longer than one.
 */
async function answers(run: RunHandle): Promise<{ status: RunStatus; ms: number; bytes: number }> {
  await run.status();
  const started = Date.now();
  const status = await run.status();
  const ms = Date.now() - started;
  expect(ms, 'status answers within a second').toBeLessThan(1_000);
  return { status, ms, bytes: Buffer.byteLength(JSON.stringify(status)) };
}

/** Aborts the run and waits for it to end cancelled; its final status stays readable. */
async function abortAndWait(run: RunHandle): Promise<RunStatus> {
  await run.abort();
  for (let i = 0; i < 200 && (await run.workflow.describe()).status.name === 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 150));
  expect((await run.workflow.describe()).status.name).toBe('CANCELLED');
  const status = await run.status();
  expect(status.state).toBe('cancelled');
  return status;
}

/** A workflow started around Baton (as `temporal workflow start` would); resolves with how it failed. */
async function startRaw(input: unknown, id: string): Promise<{ handle: WorkflowHandle; failure: { type?: string; message: string } | undefined }> {
  const handle = await setup.orchestrator.client.workflow.start('phasedRun', { taskQueue: 'baton', workflowId: `${id}-${Date.now()}`, args: [input] });
  const failure = await Promise.race([
    handle.result().then(
      () => undefined,
      (err: unknown) => (err instanceof WorkflowFailedError ? (err.cause as { type?: string; message: string }) : { message: String(err) }),
    ),
    new Promise<{ message: string }>((resolve) => setTimeout(() => resolve({ message: 'still running after 20 s' }), 20_000)),
  ]);
  return { handle, failure };
}

async function phasesScheduled(handle: WorkflowHandle): Promise<number> {
  return (await handle.fetchHistory()).events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runPhase').length;
}

const temporalCli = (args: string[]) => promisify(execFile)(inject('temporalBinary'), [...args, '--address', inject('temporalAddress')], { maxBuffer: 64 * 1024 * 1024 });

describe('what is too large or out of range is refused before it is recorded', () => {
  it('two skipPhase signals of 1.1 MB each: each refused, quoting its start (they froze the run, before)', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'big-signals',
      workdir,
      phases: [fixturePhase(0), fixturePhase('agent', [0], {}, { use_separate_agent: true }), fixturePhase('last', ['agent'])],
    });
    await until(run, 'the agent phase to wait', (s) => s.phases.agent!.state === 'awaiting_agent');
    const huge = { phase: 'x'.repeat(1_100_000) };
    await run.workflow.signal('skipPhase', huge);
    await run.workflow.signal('skipPhase', huge);
    await until(run, 'two notices', (s) => s.notices.length >= 2);
    const { status, bytes } = await answers(run);
    for (const notice of status.notices) {
      expect(notice).toMatch(/^skipPhase: the request is 1,100,012 bytes as JSON; at most 65,536 bytes \(64 KiB\); expected \{"phase": <id>\}, got \{"phase":"x+… \(1,100,012 bytes in all\)$/);
      expect(notice.length).toBeLessThan(400);
    }
    expect(bytes).toBeLessThan(64 * 1024);
    // Nothing else changed: phase 0's output is there, the agent's phase still waits; the run can be aborted.
    expect(status.phases['0']).toMatchObject({ state: 'completed', context: { context: { value: 1 } } });
    expect(status.phases.agent!.state).toBe('awaiting_agent');
    const cancelled = await abortAndWait(run);
    expect(cancelled.phases['0']!.state).toBe('completed');
    expect(cancelled.phases.agent!.error).toBe('cancelled: the run was aborted while this phase was in flight');
  });

  it('a 2,096,000-byte input (accepted by Temporal, then stuck after phase 0, before): InvalidPlan before any phase runs', async () => {
    const workdir = await tempDir();
    const input = { plan: { name: 'huge-input', workdir, global_context: { blob: 'x'.repeat(2_096_000 - 300) }, phases: [fixturePhase(0), fixturePhase(1, [0])] } };
    expect(Buffer.byteLength(JSON.stringify(input))).toBeGreaterThan(2_095_000);
    const { handle, failure } = await startRaw(input, 'huge-input');
    expect(failure).toMatchObject({ type: 'InvalidPlan', message: expect.stringContaining("a run's input may be at most 1,048,576 bytes (1 MiB)") });
    expect(await phasesScheduled(handle)).toBe(0);
  });

  it('retries: 2147483647 and timeout_s: 1e-9 in a plan started around Baton (MaximumAttempts cannot be negative, Invalid duration string, before)', async () => {
    const workdir = await tempDir();
    const retries = await startRaw({ plan: { name: 'retries', workdir, phases: [{ ...fixturePhase(0), retries: 2147483647 }] } }, 'huge-retries');
    expect(retries.failure).toMatchObject({ type: 'InvalidPlan', message: expect.stringContaining('phase 0: "retries" must be at most 100, got 2147483647') });
    const timeout = await startRaw({ plan: { name: 'timeout', workdir, phases: [{ ...fixturePhase(0), timeout_s: 1e-9 }] } }, 'tiny-timeout');
    expect(timeout.failure).toMatchObject({ type: 'InvalidPlan', message: expect.stringContaining('phase 0: "timeout_s" must be from 1 to 2,592,000 seconds (30 days), got 1e-9') });
    expect(await phasesScheduled(retries.handle)).toBe(0);
    expect(await phasesScheduled(timeout.handle)).toBe(0);
  });

  it('5,000 levels of nesting in global_context, from the Temporal CLI (Maximum call stack size exceeded in every phase, before)', async () => {
    const dir = await tempDir();
    const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const file = path.join(dir, 'run.json');
    await writeFile(file, `{"plan": {"name": "deep", "workdir": ${JSON.stringify(dir)}, "global_context": ${deep}, "phases": [${JSON.stringify(fixturePhase(0))}]}}`);
    const id = `deep-${Date.now()}`;
    await temporalCli(['workflow', 'start', '--type', 'phasedRun', '--task-queue', 'baton', '--workflow-id', id, '--input-file', file]);
    const handle = setup.orchestrator.client.workflow.getHandle(id);
    const failure = await handle.result().then(() => undefined, (err: unknown) => (err as WorkflowFailedError).cause as { type?: string; message: string });
    expect(failure).toMatchObject({ type: 'InvalidPlan', message: expect.stringMatching(/"global_context" is nested more than 64 levels deep \(at global_context\.a\.a\.a\.a\.a\.a…a\.a\); at most 64: flatten it/) });
    expect(await phasesScheduled(handle)).toBe(0);
  });

  it('retryPhase with retries 2147483647 or timeout_s 1e-9 on a held run: refused with a notice; a sane retry completes it', async () => {
    const run = await setup.orchestrator.start({ name: 'bad-retries', workdir: await tempDir(), phases: [fixturePhase(0, [], { fail_always: 'broken on purpose' }), fixturePhase(1, [0])] });
    await until(run, 'hold', (s) => s.state === 'held');
    await run.workflow.signal('retryPhase', { phase: 0, retries: 2147483647 });
    await run.workflow.signal('retryPhase', { phase: 0, timeout_s: 1e-9 });
    await until(run, 'two notices', (s) => s.notices.length >= 2);
    const { status } = await answers(run);
    expect(status.notices).toEqual(['retryPhase: "retries" must be at most 100, got 2147483647', 'retryPhase: "timeout_s" must be from 1 to 2,592,000 seconds (30 days), got 1e-9']);
    expect(status.phases['0']).toMatchObject({ state: 'failed', generation: 1 });
    await run.workflow.signal('retryPhase', { phase: 0, retries: 1, config: { fail_always: '' } });
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['0']).toMatchObject({ generation: 2, override: { retries: 1 } });
  });
});

describe("an agent's result", () => {
  const resultFor = (run: RunHandle, status: RunStatus, extra: Partial<AgentResult>): AgentResult => ({
    schema_version: 1,
    execution_id: run.runId,
    phase: 'agent',
    generation: status.phases.agent!.generation,
    attempt: 1,
    package_hash: status.phases.agent!.awaiting!.package_hash,
    outcome: 'completed',
    output: { context: { done: true }, artifacts: {} },
    error: null,
    provenance: { host: 'h', user: 'u', agent: 'bad-inputs', mode: 'online', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z' },
    content_hash: null,
    signature: null,
    ...extra,
  });

  it('with provenance.finished_at "yesterday" is refused (Invalid time value on every workflow task, before); a 1.5 MB error too (the run held and nobody could see why); a long one is kept to its start', async () => {
    const run = await setup.orchestrator.start(
      { name: 'bad-results', workdir: await tempDir(), phases: [fixturePhase(0), fixturePhase('agent', [0], {}, { use_separate_agent: true }), fixturePhase('last', ['agent'])] },
      { accept_unsigned_results: true },
    );
    const waiting = await until(run, 'the agent phase to wait', (s) => s.phases.agent!.state === 'awaiting_agent');
    const good = resultFor(run, waiting, {});

    await expect(run.complete({ ...good, provenance: { ...good.provenance, finished_at: 'yesterday' } })).rejects.toThrow(
      'the result is not valid: "provenance.finished_at" must be an ISO 8601 date and time with its offset, such as "2026-11-30T12:00:00Z", got "yesterday"',
    );
    await expect(run.complete({ ...good, outcome: 'failed', output: null, error: `START ${'e'.repeat(1_500_000)}` })).rejects.toThrow(
      /^the result is over 1,500,\d{3} bytes as JSON; at most 524,288 bytes \(512 KiB\): store large values by reference/,
    );
    expect((await answers(run)).status.phases.agent!.state).toBe('awaiting_agent');

    // An error within the limit is taken, and the run keeps (and shows) its start.
    await run.complete({ ...good, outcome: 'failed', output: null, error: `START ${'e'.repeat(60_000)}` });
    const held = await until(run, 'hold', (s) => s.state === 'held');
    const error = held.phases.agent!.error!;
    expect(error.length).toBeLessThanOrEqual(4_000);
    expect(error).toMatch(/^START e+ … \[cut: 60,006 characters in all\]$/);
    expect(held.held_reason).toMatch(/^phase agent \(Phase agent\) failed: START e+/);
    const { bytes } = await answers(run);
    expect(bytes).toBeLessThan(64 * 1024);

    // Nothing lost: retried, the phase waits for an agent again and a good result completes the run.
    await run.retry('agent');
    const again = await until(run, 'the agent phase to wait again', (s) => s.phases.agent!.state === 'awaiting_agent' && s.phases.agent!.generation === 2);
    await run.complete(resultFor(run, again, {}));
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases.agent!.context).toEqual({ context: { done: true }, artifacts: {} });
  });
});

/** `count` phases: phase 0 runs `zero`, every other depends on 0 and runs `true`. Small as JSON, so 10,000 fit the input limit. */
function largePlan(name: string, workdir: string, count: number, zero: string[], extra: Record<string, unknown> = {}) {
  return {
    name,
    workdir,
    ...extra,
    phases: [{ id: 0, command: zero }, ...Array.from({ length: count - 1 }, (_, i) => ({ id: i + 1, depends_on: [0], command: ['true'] }))],
  };
}

describe('the status always fits', () => {
  it('a 10,000-phase plan that holds early: baton run, status, the phases query and abort work (Blob data size exceeds limit, before)', async () => {
    const dir = await tempDir();
    const planFile = await writeJson(path.join(dir, 'plan.json'), largePlan('holds-early', 'wd', 10_000, ['sh', '-c', 'echo broken on purpose >&2; exit 3']));
    const started = await baton(['run', planFile, '--id', `holds-early-${Date.now()}`], { timeoutMs: 110_000 });
    expect(started.code, started.stderr).toBe(1);
    const runId = /started run (\S+)/.exec(started.stdout)![1]!;
    expect(started.stderr).toContain(`baton: phase 0 (0) failed: phase 0 (0) exited with code 3: broken on purpose`);
    expect(started.stderr).toContain(`baton: run ${runId} holds for an operator`);
    const run = setup.orchestrator.run(runId);

    const { status, bytes } = await answers(run);
    expect(bytes).toBeLessThan(1024 * 1024);
    expect(status.summary).toEqual({ phases: 10_000, by_state: { pending: 9_999, failed: 1 } });
    expect(Object.keys(status.phases)).toEqual(['0']);
    expect(status.omitted_phases).toBe(9_999);

    const cli = await baton(['status', runId]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`… and 9999 more phases, not shown for size (9,999 pending · 1 failed): \`baton status ${runId} --state <state>\` (or --all) lists them`);
    const failed = await baton(['status', runId, '--state', 'failed', '--json']);
    expect(Object.keys((JSON.parse(failed.stdout) as RunStatus).phases)).toEqual(['0']);
    let listed = 0;
    for await (const _ of run.allPhases()) listed++;
    expect(listed).toBe(10_000);

    const aborted = await baton(['abort', runId]);
    expect(aborted.code, aborted.stderr).toBe(0);
    for (let i = 0; i < 200 && (await run.workflow.describe()).status.name === 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 150));
    expect((await run.workflow.describe()).status.name).toBe('CANCELLED');
    const after = await baton(['status', runId]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain('· cancelled');
    // Nothing lost: the final execution_context.json has every phase.
    const exported = JSON.parse(await readFile(path.join(dir, 'wd', 'execution_context.json'), 'utf8')) as RunStatus;
    expect(exported.execution_id).toBe(runId);
    expect(Object.keys(exported.phases)).toHaveLength(10_000);
    expect(exported.phases['0']!.error).toContain('broken on purpose');
  });

  it('the same with auto_advance: false, and executePhase for a phase whose dependency nobody requested (it waited in silence, before)', async () => {
    const run = await setup.orchestrator.start(largePlan('step-by-step', await tempDir(), 10_000, ['true'], { auto_advance: false }));
    let { status } = await answers(run);
    expect(status.summary).toEqual({ phases: 10_000, by_state: { pending: 10_000 } });

    const five = run.executePhase(5);
    status = await until(run, 'the notice', (s) => s.notices.some((n) => n.startsWith('executePhase')));
    expect(status.notices.filter((n) => n.startsWith('executePhase'))).toEqual([
      'executePhase: phase 5 waits for phase 0, which nobody has requested (the plan has auto_advance: false): request it with executePhase too ({"phase": 0}); until then phase 5 does not start',
    ]);
    expect(status.phases['5']).toMatchObject({ state: 'pending', unrequested_dependencies: [0] });
    expect((await answers(run)).bytes).toBeLessThan(1024 * 1024);

    expect(await run.executePhase(0)).toMatchObject({ state: 'completed' });
    expect(await five).toMatchObject({ state: 'completed' });
    const cancelled = await abortAndWait(run);
    expect(cancelled.summary!.by_state).toEqual({ pending: 9_998, completed: 2 });
  });
});
