/**
 * The bad-input catalogue, part 4: credentials and forgeries sent to live runs. What a phase
 * writes (a stderr tail, an output that is not JSON) is redacted; what an agent, an operator or a
 * hand-written input sends is refused, naming where. Nothing of a credential reaches the status,
 * execution_context.json or history (the one exception: a signal's own event, which Temporal
 * records before any code can look at it); each run still answers `status`, can be aborted, and
 * loses nothing it had.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import proto from '@temporalio/proto';
import { describe, expect, inject, it } from 'vitest';
import { planResume } from '../../src/client/resume.js';
import type { AgentResult } from '../../src/core/handoff/result.js';
import { checkRun } from '../../src/core/plan/validate.js';
import { fixturePhase, tempDir, until, workerForFile } from '../support/baton.js';

const setup = workerForFile([], { BATON_HANDOFF_KEY: 'untrusted-inputs-test-key-0123456789' });

// Assembled at run time, so neither this file nor a plan carries them whole (a plan would be refused).
const AWS_KEY_ID = 'AKIA' + 'Q3EGRJ7TV2NPLM5X';
const PASSWORD = 'Tr0ub4dor' + '-horse-staple';
const GITHUB_TOKEN = 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';
const SECRETS = [AWS_KEY_ID, PASSWORD, GITHUB_TOKEN];
/** A JavaScript expression that makes `secret` when the phase runs. */
const made = (secret: string) => `${JSON.stringify(secret.slice(0, 6))} + ${JSON.stringify(secret.slice(6))}`;
const node = (script: string) => ['node', '-e', script];

const { EventType } = proto.temporal.api.enums.v1;

/** A run's history as text, every payload decoded, leaving out the events of the given types. */
async function historyText(runId: string, except: number[] = []): Promise<string> {
  const history = await setup.orchestrator.client.workflow.getHandle(runId).fetchHistory();
  const events = (history.events ?? []).filter((e) => !except.includes(e.eventType ?? 0));
  return JSON.stringify(events, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value));
}

function expectNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${where} carries ${secret.slice(0, 4)}…`).toBe(false);
}

async function exported(workdir: string): Promise<string> {
  const file = path.join(workdir, 'execution_context.json');
  return existsSync(file) ? readFile(file, 'utf8') : '';
}

const signal = async (runId: string, name: string, input: unknown): Promise<void> => {
  await promisify(execFile)(inject('temporalBinary'), ['workflow', 'signal', '--workflow-id', runId, '--name', name, '--input', JSON.stringify(input), '--address', inject('temporalAddress')]);
};

async function startRaw(input: Record<string, unknown>, id: string) {
  return setup.orchestrator.client.workflow.start('phasedRun', { taskQueue: 'baton', workflowId: `${id}-${Date.now()}`, args: [input] });
}

async function phasesRan(handle: { fetchHistory(): Promise<proto.temporal.api.history.v1.IHistory> }): Promise<boolean> {
  return ((await handle.fetchHistory()).events ?? []).some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runPhase');
}

describe('credentials in what a phase writes are redacted wherever its error goes', () => {
  it("a failing command's stderr tail and an output that is not JSON: status, execution_context.json and history carry neither", async () => {
    const workdir = await tempDir();
    const stderr = `'connecting\\nAWS_ACCESS_KEY_ID=' + ${made(AWS_KEY_ID)} + '\\npassword=' + ${made(PASSWORD)} + '\\nDATABASE_URL=postgres://app:' + ${made(PASSWORD)} + '@db:5432/x\\n'`;
    const run = await setup.orchestrator.start({
      name: 'leaky-errors',
      workdir,
      phases: [
        fixturePhase(0),
        { id: 'stderr', depends_on: [0], command: node(`process.stderr.write(${stderr}); process.exit(3)`) },
        { id: 'garbled', depends_on: [0], command: node(`require('fs').writeFileSync(process.env.BATON_OUTPUT, ${made(GITHUB_TOKEN)} + ' is not JSON')`) },
        fixturePhase('last', ['stderr', 'garbled']),
      ],
    });
    const held = await until(run, 'both phases to fail', (s) => s.phases.stderr!.state === 'failed' && s.phases.garbled!.state === 'failed');
    expect(held.phases.stderr!.error).toMatch(/^phase stderr \(stderr\) exited with code 3: connecting\nAWS_ACCESS_KEY_ID=AKIA…\[redacted\]\npassword=\[redacted\]\nDATABASE_URL=postgres:\/\/app:\[redacted\]@db:5432\/x \(full log: /);
    expect(held.phases.garbled!.error).toMatch(/which is not JSON \(Unexpected token 'g'; it begins "ghp_…\[redacted\] is not JSON"\)$/);
    expect(held.held_reason).toContain('AKIA…[redacted]');
    expectNoSecret('the status', JSON.stringify(held));
    for (let i = 0; i < 50 && !(await exported(workdir)).includes('garbled'); i++) await new Promise((r) => setTimeout(r, 100));
    expectNoSecret('execution_context.json', await exported(workdir));
    expectNoSecret('history', await historyText(run.runId));

    // The run answers, can be aborted, and keeps what it had.
    await run.abort();
    const final = await until(run, 'the abort', (s) => s.state === 'cancelled');
    expect(final.phases['0']).toMatchObject({ state: 'completed', context: { context: { value: 1 } } });
    expectNoSecret('the final status', JSON.stringify(final));
    expectNoSecret('execution_context.json', await exported(workdir));
  });
});

describe("an agent's result that carries credentials is refused before it is recorded", () => {
  it('in its context, its error or its agent name: each refused naming where; the phase keeps waiting', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start(
      { name: 'leaky-agent', workdir, phases: [fixturePhase(0), fixturePhase('agent', [0], {}, { use_separate_agent: true })] },
      { accept_unsigned_results: true },
    );
    const waiting = await until(run, 'the agent phase to wait', (s) => s.phases.agent!.state === 'awaiting_agent');
    const result: AgentResult = {
      schema_version: 1, execution_id: run.runId, phase: 'agent', generation: 1, attempt: 1, package_hash: waiting.phases.agent!.awaiting!.package_hash,
      outcome: 'completed', output: { context: { rows: 3 }, artifacts: {} }, error: null,
      provenance: { host: 'h', user: 'u', agent: 'claude', mode: 'online', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z' },
      content_hash: null, signature: null,
    };
    await expect(run.complete({ ...result, output: { context: { rows: 3, api_key: PASSWORD, aws: { id: AWS_KEY_ID } }, artifacts: {} } })).rejects.toThrow(
      /the result carries credentials, which never enter the run's history: output\.context\.api_key: key "api_key" holds what looks like a credential; .*; output\.context\.aws\.id: an AWS access key id \(AKIA…\)/,
    );
    await expect(run.complete({ ...result, outcome: 'failed', output: null, error: `upload failed: token=${GITHUB_TOKEN}` })).rejects.toThrow(
      /error: it quotes what looks like a credential; redact it \(baton execute-phase does\)/,
    );
    await expect(run.complete({ ...result, provenance: { ...result.provenance, agent: `bot ${GITHUB_TOKEN}` } })).rejects.toThrow(/provenance\.agent: a GitHub token \(ghp_…\)/);

    const status = await run.status();
    expect(status.phases.agent!.state).toBe('awaiting_agent');
    expectNoSecret('the status', JSON.stringify(status));
    expectNoSecret('history', await historyText(run.runId));

    await run.abort();
    const final = await until(run, 'the abort', (s) => s.state === 'cancelled');
    expect(final.phases['0']).toMatchObject({ state: 'completed', context: { context: { value: 1 } } });
    expectNoSecret('execution_context.json', await exported(workdir));
  });
});

describe('a retryPhase whose overrides carry credentials is refused', () => {
  it('a password in its config, a URL with a password: a notice naming where, and nothing changes', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({ name: 'leaky-override', workdir, phases: [fixturePhase(0), fixturePhase(1, [0], { fail_always: 'not yet' })] });
    await until(run, 'the run to hold', (s) => s.state === 'held');
    await signal(run.runId, 'retryPhase', { phase: 1, config: { db_password: PASSWORD } });
    await signal(run.runId, 'retryPhase', { phase: 1, config: { dsn: `postgres://app:${PASSWORD}@db/x` } });
    const noticed = await until(run, 'two notices', (s) => s.notices.length >= 2);
    expect(noticed.notices).toEqual([
      expect.stringMatching(/^retryPhase: refused \(phase 1 was not retried\): its overrides carry credentials: config\.db_password: key "db_password" holds what looks like a credential; pass credentials/),
      expect.stringMatching(/^retryPhase: refused \(phase 1 was not retried\): its overrides carry credentials: config\.dsn: a URL with an embedded password \(post…\)/),
    ]);
    expect(noticed.phases['1']).toMatchObject({ state: 'failed', generation: 1 });
    expect(noticed.phases['1']!.override).toBeUndefined();
    expectNoSecret('the status', JSON.stringify(noticed));
    // The signals' own events hold what was sent (Temporal records a signal before the run sees it); nothing else does.
    expectNoSecret('history', await historyText(run.runId, [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]));

    await run.abort();
    const final = await until(run, 'the abort', (s) => s.state === 'cancelled');
    expect(final.phases['0']).toMatchObject({ state: 'completed', context: { context: { value: 1 } } });
    expectNoSecret('execution_context.json', await exported(workdir));
  });
});

describe('the blocks of a workflow input that only Baton writes are verified or refused', () => {
  it('a hand-made "continued" (a phase marked completed that never ran), well-formed: refused before any phase runs', async () => {
    const workdir = await tempDir();
    const handle = await startRaw(
      {
        plan: { name: 'forged-continued', workdir, phases: [fixturePhase(0), fixturePhase(1, [0])] },
        continued: {
          segment: 1, started_at: '2026-01-01T00:00:00.000Z', paused: false, notices: [], completed_count: 1, compensations_due: [], refresh_due: [],
          phases: {}, archived: [['0', 'completed', 1, 1, 0]], archives: [],
        },
      },
      'forged-continued',
    );
    await expect(handle.result()).rejects.toMatchObject({
      cause: { type: 'InvalidPlan', message: expect.stringMatching(/^the input's "continued" is the state a run hands to the run it continues as new, and this run was started, not continued/) },
    });
    expect(await phasesRan(handle)).toBe(false);
  });

  it('a hand-made "resume" whose reused output carries a key, or is not what the earlier run recorded: refused before any phase runs', async () => {
    const workdir = await tempDir();
    const plan = { name: 'forged-resume', workdir, phases: [fixturePhase(0), fixturePhase(1, [0])] };
    const earlier = await setup.orchestrator.start(plan);
    const recorded = await earlier.finalStatus();
    const phase0 = { context: recorded.phases['0']!.context!.context, artifacts: {} };

    const withKey = await startRaw({ plan, resume: { from_run: 'no-such-run', phases: { 0: { context: { api_key: PASSWORD }, artifacts: {} } } } }, 'forged-resume-key');
    await expect(withKey.result()).rejects.toMatchObject({
      cause: { type: 'InvalidPlan', message: expect.stringMatching(/^the input's "resume" carries credentials: resume\.phases\["0"\]\.context\.api_key: key "api_key" holds what looks like a credential/) },
    });
    expect(await phasesRan(withKey)).toBe(false);
    expectNoSecret('the refused run', await historyText(withKey.workflowId, [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED]));

    const cases: Array<[unknown, RegExp]> = [
      [{ from_run: earlier.runId, phases: { 0: { ...phase0, context: { ...phase0.context, value: 41 } } } }, /resume\.phases\["0"\]: context is not what run \S+ recorded for phase 0/],
      [{ from_run: `${earlier.runId}-gone`, phases: { 0: phase0 } }, /resume\.from_run: there is no run \S+-gone \(or its history is gone\) to reuse outputs from/],
      [{ from_run: earlier.runId, phases: { 1: { context: {}, artifacts: {} } } }, /resume\.phases\["1"\]: phase 1 depends on 0, which would run again, so it cannot be reused/],
    ];
    for (const [resume, message] of cases) {
      const handle = await startRaw({ plan, resume }, 'forged-resume');
      await expect(handle.result(), String(message)).rejects.toMatchObject({ cause: { type: 'InvalidPlan', message: expect.stringMatching(message) } });
      expect(await phasesRan(handle)).toBe(false);
    }

    // The real thing, as baton run --resume-from writes it, is taken: phase 0 reused, phase 1 run again.
    const { resume } = await planResume(setup.orchestrator.client, earlier.runId, checkRun(plan).plan);
    expect(Object.keys(resume.phases)).toEqual(['0', '1']);
    const again = await setup.orchestrator.start(plan, {}, { resume: { ...resume, phases: { 0: resume.phases['0']! } } });
    const final = await again.finalStatus();
    expect(final.phases['0']).toMatchObject({ state: 'completed', reused_from: earlier.runId, attempts: 0 });
    expect(final.phases['1']).toMatchObject({ state: 'completed', attempts: 1 });
  });
});
