/**
 * The bad-input catalogue, part 3: what is too large, too deep, too many or out of range, at every
 * door (plan, config, workflow input, signals, updates, agent results), refused with the limit
 * and what to do before anything is recorded; and what a run keeps (its status, notices, errors)
 * always within its budget. Pure code; the same cases against a live run are in oversized.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { buildAgentResult } from '../../src/client/agent-result.js';
import { Orchestrator } from '../../src/client/orchestrator.js';
import { explainTemporalError, withCauses } from '../../src/client/temporal-errors.js';
import { cutText, excerpt, LIMITS, measureJson, utf8Length } from '../../src/core/api/limits.js';
import { resultSizeProblem } from '../../src/core/api/message-bounds.js';
import { parseMessage } from '../../src/core/api/messages.js';
import type { RunStatus } from '../../src/core/api/status.js';
import { AgentResultSchema, type AgentResult } from '../../src/core/handoff/result.js';
import type { HandoffPackage } from '../../src/core/handoff/schema.js';
import { PlanError } from '../../src/core/plan/problems.js';
import { checkRun } from '../../src/core/plan/validate.js';
import { phasesPage, runStatus } from '../../src/core/workflows/projections.js';
import { RunBook } from '../../src/core/workflows/run-book.js';
import { inputSizeProblem } from '../../src/core/workflows/run-input.js';
import { boundedStatus, memoStatus } from '../../src/core/workflows/status-size.js';
import { problemsOf } from '../support/plan-problems.js';

const ok = { id: 0, name: 'Zero', command: ['true'] };
const plan = (extra: Record<string, unknown> = {}, phase: Record<string, unknown> = {}) => ({ name: 'p', ...extra, phases: [{ ...ok, ...phase }] });

function nested(levels: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let at = root;
  for (let i = 0; i < levels; i++) {
    const next: Record<string, unknown> = {};
    at.a = next;
    at = next;
  }
  return root;
}

describe('plans and configs: ranges, sizes, counts and nesting', () => {
  const cases: Array<[string, unknown, unknown, string]> = [
    ['retries: 2147483647 (MaximumAttempts cannot be negative, before)', plan({}, { retries: 2147483647 }), {}, 'phase 0: "retries" must be at most 100, got 2147483647'],
    ['timeout_s: 1e-9 (Invalid duration string, before)', plan({}, { timeout_s: 1e-9 }), {}, 'phase 0: "timeout_s" must be from 1 to 2,592,000 seconds (30 days), got 1e-9'],
    ['a timeout of a century', plan({}, { timeout_s: 3.2e9 }), {}, 'phase 0: "timeout_s" must be from 1 to 2,592,000 seconds (30 days), got 3200000000'],
    ['an agent timeout no date can hold (Invalid time value, before)', plan({}, { agent_timeout_s: 1e300 }), {}, 'phase 0: "agent_timeout_s" must be from 1 to 31,536,000 seconds (365 days), got 1e+300'],
    ['a heartbeat timeout of a nanosecond', plan(), { heartbeat_timeout_s: 1e-9 }, 'the orchestrator config: "heartbeat_timeout_s" must be from 1 to 86,400 seconds (1 day), got 1e-9'],
    ['worker_loss_retries: 2147483647', plan(), { worker_loss_retries: 2147483647 }, 'the orchestrator config: "worker_loss_retries" must be at most 100, got 2147483647'],
    ['a class with 10 million retries', plan(), { resource_classes: { default: { retries: 1e7 } } }, 'the orchestrator config: "resource_classes.default.retries" must be at most 100, got 10000000'],
    ['a default timeout of a microsecond', plan(), { default_timeout_s: 1e-6 }, 'the orchestrator config: "default_timeout_s" must be from 1 to 2,592,000 seconds (30 days), got 0.000001'],
    ['a phase name of 10,000 characters', plan({}, { name: 'n'.repeat(10_000) }), {}, 'phase 0: "name" is 10,000 characters long; at most 200'],
    ['a command argument of 100,000 characters', plan({}, { command: ['echo', 'x'.repeat(100_000)] }), {}, 'phase 0: "command[1]" is 100,000 characters long; at most 16,384: pass long input in a file'],
  ];
  for (const [what, p, config, message] of cases) {
    it(what, () => {
      expect(problemsOf(p, config)).toEqual([message]);
    });
  }

  it('5,000 levels of nesting in global_context (Maximum call stack size exceeded in every phase, before)', () => {
    const started = Date.now();
    const problems = problemsOf(plan({ global_context: nested(5_000) }));
    expect(problems).toEqual(['the plan: "global_context" is nested more than 64 levels deep (at global_context.a.a.a.a.a.a…a.a); at most 64: flatten it']);
    expect(Date.now() - started).toBeLessThan(2_000);
    // 64 levels are fine.
    expect(problemsOf(plan({ global_context: nested(63) }))).toEqual([]);
  });

  it('a global_context over 64 KiB, which would travel in every package', () => {
    expect(problemsOf(plan({ global_context: { blob: 'x'.repeat(70_000) } }))).toEqual([
      "the plan: \"global_context\" is 70,011 bytes as JSON; at most 65,536 bytes (64 KiB): it travels in every phase's package; keep large data in a file under the workdir and name it in shared_artifacts",
    ]);
  });

  it('a plan of 100,000 phases is refused at once, with the limit and what to do', () => {
    const phases = Array.from({ length: 100_000 }, (_, i) => ({ id: i, command: ['true'] }));
    const started = Date.now();
    const problems = problemsOf({ name: 'huge', phases });
    expect(problems).toContain('the plan has 100,000 phases; at most 10,000 in one run: split it into several runs of at most 10,000 phases (a run\'s state and input must stay within Temporal\'s payload limits)');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a refusal lists at most 100 problems, and says how many more', () => {
    const phases = Array.from({ length: 500 }, (_, i) => ({ id: i, command: ['true'], retries: 1e6 }));
    const problems = problemsOf({ name: 'many', phases });
    expect(problems).toHaveLength(101);
    expect(problems.at(-1)).toBe('… and 400 more problems');
  });

  it('values in range are accepted, as are the limits themselves', () => {
    expect(problemsOf(plan({}, { timeout_s: 1, retries: 100, agent_timeout_s: 365 * 86400 }), { heartbeat_timeout_s: 86400, worker_loss_retries: 100 })).toEqual([]);
  });

  it('a run started before the bounds replays as it ran: the workflow checks them only for new runs', () => {
    expect(() => checkRun(plan({}, { retries: 2147483647 }), {}, { bounds: false })).not.toThrow();
  });
});

describe('the workflow input', () => {
  it('a 2,096,000-byte input (accepted by Temporal, then stuck after phase 0, before) is refused before anything runs', () => {
    const input = { plan: plan({ global_context: {} }, { config: { blob: 'x'.repeat(2_096_000 - 80) } }) };
    expect(inputSizeProblem(input)).toMatch(
      /^the plan, config and reused outputs are 2,09\d,\d{3} bytes as JSON; a run's input may be at most 1,048,576 bytes \(1 MiB\) \(Temporal's payload limit is 2 MiB, and a run needs room for its own state\): keep large data in files named in shared_artifacts, or split the plan into several runs$/,
    );
    expect(inputSizeProblem({ plan: plan() })).toBeUndefined();
  });

  it('the client refuses a plan over its limits before it calls Temporal, and says what to do', async () => {
    const client = { workflow: { start: () => Promise.reject(new Error('must not be called')) } } as unknown as Client;
    const orchestrator = new Orchestrator(client);
    const phases = Array.from({ length: 100_000 }, (_, i) => ({ id: i, command: ['node', `phases/${i}.mjs`] }));
    await expect(orchestrator.start({ name: 'huge', phases })).rejects.toThrow(/the plan has 100,000 phases; at most 10,000 in one run: split it/);
    // Within the phase count, but too large as a whole.
    const wide = Array.from({ length: 9_000 }, (_, i) => ({ id: i, command: ['node', `phases/${i}.mjs`], config: { note: 'n'.repeat(150) } }));
    const refused = await orchestrator.start({ name: 'wide', phases: wide }).then(() => undefined, (err: unknown) => err);
    expect(refused).toBeInstanceOf(PlanError);
    expect((refused as PlanError).message).toMatch(/^the run of plan "wide" is not valid:\n {2}- the plan, config and reused outputs are [\d,]+ bytes as JSON; a run's input may be at most 1,048,576 bytes \(1 MiB\)/);
  });

  it("a refused start keeps Temporal's cause, names the limit and the fix (Failed to start Workflow, before)", () => {
    const grpc = Object.assign(new Error('8 RESOURCE_EXHAUSTED: received message larger than max (6866867 vs. 4194304)'), { details: 'received message larger than max (6866867 vs. 4194304)' });
    const sdk = new Error('Failed to start Workflow', { cause: grpc });
    const explained = explainTemporalError(sdk, 'start', 'huge-1');
    expect(explained.message).toContain('Temporal refused to start run huge-1: its input is too large (6,866,867 bytes; Temporal takes at most 4,194,304 bytes (4 MiB) in one request)');
    expect(explained.message).toContain('received message larger than max (6866867 vs. 4194304)');
    expect(explained.message).toContain("A run's input may be at most 1,048,576 bytes (1 MiB)");
    const signal = explainTemporalError(new Error('Failed to signal Workflow', { cause: new Error('3 INVALID_ARGUMENT: exceeded workflow execution limit for signal events') }), 'signal', 'r');
    expect(signal.message).toMatch(/^run r has taken all the signals Temporal allows one execution \(history\.maximumSignalsPerExecution, 10,000 on default settings\)/);
    expect(withCauses(new Error('Failed to query Workflow', { cause: new Error('boom') }))).toBe('Failed to query Workflow: boom');
  });
});

describe('signals and updates: size, nesting and ranges', () => {
  it('a skipPhase of 1.1 MB is refused, quoting only its start (a notice quoting the whole payload froze the run, before)', () => {
    const parsed = parseMessage('skipPhase', { phase: 'x'.repeat(1_100_000) });
    expect(parsed.ok).toBe(false);
    const error = (parsed as { error: string }).error;
    expect(error).toMatch(/^skipPhase: the request is 1,100,012 bytes as JSON; at most 65,536 bytes \(64 KiB\); expected \{"phase": <id>\}, got \{"phase":"x{190,}… \(1,100,012 bytes in all\)$/);
    expect(error.length).toBeLessThan(400);
  });

  it('retryPhase with retries 2147483647 or a timeout of 1e-9 s', () => {
    expect(parseMessage('retryPhase', { phase: 0, retries: 2147483647 })).toEqual({ ok: false, error: 'retryPhase: "retries" must be at most 100, got 2147483647' });
    expect(parseMessage('retryPhase', { phase: 0, timeout_s: 1e-9 })).toEqual({ ok: false, error: 'retryPhase: "timeout_s" must be from 1 to 2,592,000 seconds (30 days), got 1e-9' });
    // A run from before the bounds takes them as it did (its history replays).
    expect(parseMessage('retryPhase', { phase: 0, retries: 2147483647 }, { bounds: false }).ok).toBe(true);
  });

  it('a retryPhase whose config nests 5,000 levels, and an agentProgress of -500 % or 100,000 characters', () => {
    const deep = parseMessage('retryPhase', { phase: 0, config: nested(5_000) });
    expect(deep).toMatchObject({ ok: false, error: expect.stringMatching(/^retryPhase: the request is nested more than 64 levels deep \(at config\.a\.a.*\); at most 64; expected .*, got a value nested more than 64 levels deep$/) });
    expect(parseMessage('agentProgress', { phase: 0, message: 'x', percent: -500 })).toMatchObject({ ok: false, error: expect.stringContaining('"percent" must be ≥ 0, got -500') });
    expect(parseMessage('agentProgress', { phase: 0, message: 'm'.repeat(100_000) })).toMatchObject({ ok: false, error: expect.stringContaining('at most 65,536 bytes') });
    expect(parseMessage('agentProgress', { phase: 0, message: 'm'.repeat(5_000) })).toEqual({ ok: false, error: 'agentProgress: "message" is 5,000 characters long; at most 1,000: say what the agent does now in a line' });
  });

  const result: AgentResult = {
    schema_version: 1, execution_id: 'r', phase: 0, generation: 1, attempt: 1, package_hash: `sha256:${'0'.repeat(64)}`,
    outcome: 'failed', output: null, error: 'it broke',
    provenance: { host: 'h', user: 'u', agent: null, mode: 'online', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z' },
    content_hash: null, signature: null,
  };

  it('an agent result with provenance.finished_at "yesterday" (Invalid time value on every workflow task, before)', () => {
    const parsed = AgentResultSchema.safeParse({ ...result, provenance: { ...result.provenance, finished_at: 'yesterday' } });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['provenance.finished_at: must be an ISO 8601 date and time with its offset, such as "2026-11-30T12:00:00Z"']);
    expect(AgentResultSchema.safeParse({ ...result, provenance: { ...result.provenance, started_at: '2026-02-31T00:00:00Z' } }).success).toBe(false);
    expect(AgentResultSchema.safeParse(result).success).toBe(true);
  });

  it("an agent's failed result with a 1.5 MB error is refused with the limit (the run held and nobody could see why, before); Baton's own agents keep its start", () => {
    expect(resultSizeProblem({ ...result, error: 'e'.repeat(1_500_000) })).toMatch(/^the result is over 1,500,\d{3} bytes as JSON; at most 524,288 bytes \(512 KiB\): store large values by reference/);
    expect(resultSizeProblem({ ...result, error: 'e'.repeat(100_000) })).toBe(
      "the result's \"error\" is 100,000 characters long; at most 65,536: keep its start (baton execute-phase and buildAgentResult do; the run keeps the first 4,000 anyway)",
    );
    expect(resultSizeProblem(result)).toBeUndefined();
    const pkg = { execution_id: 'r', to_phase: 0, generation: 1, attempt: 1, content_hash: `sha256:${'1'.repeat(64)}` } as HandoffPackage;
    const built = buildAgentResult(pkg, { ok: false, error: `START ${'e'.repeat(1_500_000)}` }, result.provenance);
    expect(built.error!.length).toBeLessThanOrEqual(LIMITS.resultErrorChars);
    expect(built.error).toMatch(/^START e+ … \[cut: 1,500,006 characters in all\]$/);
    expect(resultSizeProblem(built)).toBeUndefined();
  });
});

function bigBook(phases: number, auto_advance = true) {
  const { plan: p, config } = checkRun({ name: 'big', auto_advance, phases: Array.from({ length: phases }, (_, i) => ({ id: i, name: `Phase number ${i} of a large plan`, command: ['node', `phases/p${i}.mjs`, '--with', 'arguments'] })) });
  return new RunBook('big-run', p, config, new Date(0));
}

const done = { output: { context: { n: 1 }, artifacts: {} }, attempts: 1, executedBy: 'w', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:01Z', contentHash: null, handoffPath: null, handoffFallback: null };

describe('the status always fits', () => {
  const size = (s: RunStatus) => utf8Length(JSON.stringify(s));

  it('a 10,000-phase plan that holds early: counts, the failed phase and the running ones, within 1 MiB (Blob data size exceeds limit, before)', () => {
    const book = bigBook(10_000);
    for (const k of ['0', '1', '2']) book.phase(k).start(new Date(1));
    book.phase('0').fail('boom '.repeat(2_000), 1, 'w', new Date(2));
    book.phase('1').complete(done);
    const full = runStatus(book, null);
    expect(size(full)).toBeGreaterThan(LIMITS.statusBytes); // what failed before
    const started = Date.now();
    const bounded = boundedStatus(full);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(size(bounded)).toBeLessThanOrEqual(LIMITS.statusBytes);
    expect(bounded.summary).toEqual({ phases: 10_000, by_state: { pending: 9_997, running: 1, completed: 1, failed: 1 } });
    expect(Object.keys(bounded.phases)).toEqual(['0', '2']);
    expect(bounded.omitted_phases).toBe(9_998);
    expect(bounded.phases['0']!.error!.length).toBeLessThanOrEqual(LIMITS.errorChars);
    expect(bounded.notices.at(-1)).toBe('9998 phases are left out of this status for size (summary counts every phase); the phases query lists them page by page (baton status big-run --state <state>), and execution_context.json in the workdir has them all');
    expect(size(memoStatus(full))).toBeLessThanOrEqual(LIMITS.memoBytes);
  });

  it('the same with auto_advance: false, nothing requested', () => {
    const bounded = boundedStatus(runStatus(bigBook(10_000, false), null));
    expect(size(bounded)).toBeLessThanOrEqual(LIMITS.statusBytes);
    expect(bounded.summary!.by_state).toEqual({ pending: 10_000 });
    expect(bounded.omitted_phases).toBe(10_000);
  });

  it('10,000 failed phases, each with a 4,000-character error: as many as fit, failed first', () => {
    const book = bigBook(10_000);
    for (const k of book.keys()) {
      book.phase(k).start(new Date(1));
      book.phase(k).fail('x'.repeat(50_000), 1, 'w', new Date(2));
    }
    const full = runStatus(book, new Date(3));
    expect(full.held_reason!.length).toBeLessThan(6_000);
    expect(full.held_reason).toContain('and 9995 more failed phases');
    for (const [bounded, budget] of [[boundedStatus(full), LIMITS.statusBytes], [memoStatus(full), LIMITS.memoBytes]] as const) {
      expect(size(bounded)).toBeLessThanOrEqual(budget);
      expect(Object.keys(bounded.phases).length).toBeGreaterThan(10);
      expect(Object.values(bounded.phases).every((p) => p.state === 'failed')).toBe(true);
    }
  });

  it('the phases query pages through every phase, by state, each page within its budget', () => {
    const book = bigBook(10_000);
    for (const k of ['5', '500', '9999']) {
      book.phase(k).start(new Date(1));
      book.phase(k).fail('boom', 1, 'w', new Date(2));
    }
    const failed = phasesPage(book, { state: 'failed', limit: 2 });
    expect(failed).toMatchObject({ total: 10_000, matched: 3, next: 500 });
    expect(failed.phases.map((p) => p.id)).toEqual([5, 500]);
    expect(phasesPage(book, { state: 'failed', after: 500 })).toMatchObject({ matched: 3, next: null, phases: [{ id: 9999, error: 'boom' }] });
    let seen = 0;
    let after: number | string | undefined;
    for (let pages = 0; ; pages++) {
      const page = phasesPage(book, { limit: 1000, ...(after === undefined ? {} : { after }) });
      expect(utf8Length(JSON.stringify(page))).toBeLessThanOrEqual(LIMITS.pageBytes);
      seen += page.phases.length;
      if (page.next === null) break;
      after = page.next;
      expect(pages).toBeLessThan(20);
    }
    expect(seen).toBe(10_000);
    expect(phasesPage(book, { offset: 9_998 }).phases.map((p) => p.id)).toEqual([9998, 9999]);
    expect(() => phasesPage(book, { after: 'nope' })).toThrow('phases: "after" names phase nope, which the plan does not have');
  });

  it('executePhase for a phase whose dependency nobody requested says so in its status (it waited in silence, before)', () => {
    const { plan: p, config } = checkRun({ name: 'steps', auto_advance: false, phases: [ok, { id: 1, command: ['true'], depends_on: [0] }, { id: 2, command: ['true'], depends_on: [1] }] });
    const book = new RunBook('steps-run', p, config, new Date(0));
    book.request('2', undefined);
    expect(runStatus(book, null).phases['2']!.unrequested_dependencies).toEqual([1, 0]);
    book.request('0', undefined);
    expect(runStatus(book, null).phases['2']!.unrequested_dependencies).toEqual([1]);
    book.request('1', undefined);
    expect(runStatus(book, null).phases['2']!.unrequested_dependencies).toBeUndefined();
  });
});

describe('measuring and cutting', () => {
  it('measures JSON as JSON.stringify would, without recursion', () => {
    for (const v of [{ a: 1, b: [1, 2, 'x"y\n\u0001'], c: null, d: true, e: { f: 'é€😀' } }, [], {}, 's', 1.5]) {
      expect(measureJson(v).bytes).toBe(Buffer.byteLength(JSON.stringify(v)));
    }
    expect(measureJson(nested(100_000)).tooDeepAt).toHaveLength(64);
  });

  it('cuts text to its start, saying how long it was, and quotes payloads by their start', () => {
    expect(cutText('short', 10)).toBe('short');
    const cut = cutText('y'.repeat(10_000), 100);
    expect(cut).toHaveLength(100);
    expect(cut).toMatch(/^y+ … \[cut: 10,000 characters in all\]$/);
    expect(excerpt({ a: 1 })).toBe('{"a":1}');
    expect(excerpt(nested(5_000))).toBe('a value nested more than 64 levels deep');
  });
});
