/**
 * The bad-input catalogue's soak: 1,000 bad signals, updates and agents' results, mixed, sent to one
 * live run while a phase of it runs and another waits for an agent. None may be taken; none may
 * wedge the run (a workflow task that fails), grow its status past its budget, or put a credential
 * into its history. Afterwards the run answers `status` within a second, takes a good result, and
 * completes with everything it had.
 *
 * Credentials travel only in updates and results here: a refused update is never recorded, so the
 * whole history can be searched. (A signal's payload is recorded by Temporal before the run sees it;
 * untrusted-inputs.test.ts covers what the run keeps of one.)
 */
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import type { RunHandle } from '../../src/client/orchestrator.js';
import { executePhaseUpdate } from '../../src/core/api/definitions.js';
import type { AgentResult } from '../../src/core/handoff/result.js';
import { fixturePhase, tempDir, until, workerForFile } from '../support/baton.js';

const setup = workerForFile();

const MESSAGES = 1_000;
/** Sent at once, at most: Temporal takes at most 10 updates in flight per workflow by default. */
const BATCH = 10;
const KINDS = 13;

// Assembled at run time, so this file never carries them whole.
const AWS_KEY_ID = 'AKIA' + 'Z7RDKQ4MN2WXPL8V';
const PASSWORD = 'c0rrect-' + 'battery-staple-9';
const GITHUB_TOKEN = 'ghp_' + 'Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcB';
const SECRETS = [AWS_KEY_ID, PASSWORD, GITHUB_TOKEN];

const { EventType } = proto.temporal.api.enums.v1;

/** The run's history as text, every payload decoded. */
async function historyOf(runId: string): Promise<{ text: string; events: proto.temporal.api.history.v1.IHistoryEvent[] }> {
  const history = await setup.orchestrator.client.workflow.getHandle(runId).fetchHistory();
  const events = history.events ?? [];
  return { events, text: JSON.stringify(events, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value)) };
}

async function timedStatus(run: RunHandle): Promise<number> {
  const started = performance.now();
  await run.status();
  return performance.now() - started;
}

describe('a soak of bad input against one live run', () => {
  it(`${MESSAGES} mixed bad signals, updates and results: all refused, the run answers status within a second, completes, and its history holds no secret`, async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start(
      {
        name: 'soaked',
        workdir,
        phases: [
          fixturePhase(0),
          fixturePhase('agent', [0], {}, { use_separate_agent: true }),
          // Busy through most of the soak: a phase in flight must not notice.
          fixturePhase('busy', [0], { sleep_ms: 8_000 }),
          fixturePhase('last', ['agent', 'busy']),
        ],
      },
      { accept_unsigned_results: true },
    );
    const waiting = await until(run, 'the agent phase to wait', (s) => s.phases.agent!.state === 'awaiting_agent');
    const awaiting = waiting.phases.agent!.awaiting!;
    const good: AgentResult = {
      schema_version: 1, execution_id: run.runId, phase: 'agent', generation: waiting.phases.agent!.generation, attempt: 1, package_hash: awaiting.package_hash,
      outcome: 'completed', output: { context: { rows: 3 }, artifacts: {} }, error: null,
      provenance: { host: 'soak', user: 'soak', agent: 'soak', mode: 'online', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z' },
      content_hash: null, signature: null,
    };
    const signal = (name: string, payload: unknown) => run.workflow.signal(name, payload);
    const update = (name: string, payload: unknown) => run.workflow.executeUpdate(name, { args: [payload] });

    /** The i-th bad message: what it is, and sending it. Signals resolve once recorded; updates must reject. */
    const bad = (i: number): { kind: string; update: boolean; send: () => Promise<unknown> } => {
      switch (i % KINDS) {
        case 0: return { kind: 'retryPhase of a phase that does not exist', update: false, send: () => signal('retryPhase', { phase: `nope-${i}` }) };
        case 1: return Math.floor(i / KINDS) % 8 === 0
          ? { kind: 'skipPhase of 70 KB', update: false, send: () => signal('skipPhase', { phase: 'x'.repeat(70_000) }) }
          : { kind: 'skipPhase of a completed phase', update: false, send: () => signal('skipPhase', { phase: 0 }) };
        case 2: return { kind: 'retryPhase with retries 2147483647', update: false, send: () => signal('retryPhase', { phase: 'agent', retries: 2147483647 }) };
        case 3: return { kind: 'agentProgress with percent -500', update: false, send: () => signal('agentProgress', { phase: 'agent', message: 'working', percent: -500 }) };
        case 4: return { kind: 'a signal whose payload is not an object', update: false, send: () => signal('retryPhase', `phase ${i}`) };
        case 5: return { kind: 'phaseInterrupted with unknown keys', update: false, send: () => signal('phaseInterrupted', { phase: 'busy', junk: i }) };
        case 6: return { kind: 'executePhase of a phase that does not exist', update: true, send: () => update(executePhaseUpdate.name, { phase: `nope-${i}` }) };
        case 7: return { kind: 'a result carrying credentials', update: true, send: () => run.complete({ ...good, output: { context: { rows: i, api_key: PASSWORD, aws: { id: AWS_KEY_ID } }, artifacts: {} } }) };
        case 8: return { kind: 'a failed result whose error quotes a token', update: true, send: () => run.complete({ ...good, outcome: 'failed', output: null, error: `push failed: token=${GITHUB_TOKEN}` }) };
        case 9: return { kind: 'a result for another package', update: true, send: () => run.complete({ ...good, package_hash: `sha256:${'0'.repeat(64)}` }) };
        case 10: return { kind: 'a result finished "yesterday"', update: true, send: () => run.complete({ ...good, provenance: { ...good.provenance, finished_at: 'yesterday' } }) };
        case 11: return { kind: 'a result claiming attempt 7', update: true, send: () => run.complete({ ...good, attempt: 7 }) };
        default: return { kind: 'a result of 600 KB', update: true, send: () => run.complete({ ...good, output: { context: { blob: 'y'.repeat(600_000) }, artifacts: {} } }) };
      }
    };

    const started = performance.now();
    const accepted: string[] = [];
    let signals = 0;
    let slowestStatus = 0;
    for (let from = 0; from < MESSAGES; from += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, MESSAGES - from) }, (_, k) => bad(from + k));
      const outcomes = await Promise.allSettled(batch.map((m) => m.send()));
      outcomes.forEach((outcome, k) => {
        const m = batch[k]!;
        if (m.update && outcome.status === 'fulfilled') accepted.push(m.kind);
        if (!m.update) {
          // A signal is only refused by the run, later: Temporal itself must have taken it.
          expect(outcome.status, `${m.kind}: ${outcome.status === 'rejected' ? String(outcome.reason) : ''}`).toBe('fulfilled');
          signals++;
        }
      });
      // The run keeps answering while it is flooded.
      if (from % 100 === 0) slowestStatus = Math.max(slowestStatus, await timedStatus(run));
    }
    const soakSeconds = (performance.now() - started) / 1000;
    expect(accepted, 'updates and results the run took').toEqual([]);

    // Every signal was heard and refused: the run kept the latest 100 notices and counted the rest.
    const flooded = await until(run, 'every signal refused', (s) => s.notices.length + (s.notices_dropped ?? 0) >= signals, 60_000);
    expect(flooded.notices.length).toBeLessThanOrEqual(100);
    expect(flooded.notices.every((n) => n.length <= 1_000)).toBe(true);
    expect(flooded.phases.agent!.state).toBe('awaiting_agent');
    expect(flooded.phases['0']!.state).toBe('completed');
    const afterStatus = await timedStatus(run);
    expect(afterStatus, 'status after the soak, in ms').toBeLessThan(1_000);
    expect(JSON.stringify(flooded).length).toBeLessThan(256 * 1024);

    // It completes with a good result.
    await run.complete(good);
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(Object.values(final.phases).map((p) => p.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(final.phases.agent!.context).toMatchObject({ context: { rows: 3 } });

    // Nothing wedged it, and nothing of a credential was recorded.
    const history = await historyOf(run.runId);
    expect(history.events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toEqual([]);
    for (const secret of SECRETS) expect(history.text.includes(secret), `history carries ${secret.slice(0, 4)}…`).toBe(false);
    for (const secret of SECRETS) expect(JSON.stringify(final).includes(secret), `the final status carries ${secret.slice(0, 4)}…`).toBe(false);
    const signalled = history.events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).length;
    expect(signalled).toBe(signals);

    console.log(
      `soak: ${MESSAGES} bad messages (${signals} signals, ${MESSAGES - signals} updates and results) in ${soakSeconds.toFixed(1)} s; ` +
        `slowest status during it ${slowestStatus.toFixed(0)} ms, after it ${afterStatus.toFixed(0)} ms; ` +
        `${history.events.length} events in history, ${(history.text.length / 1e6).toFixed(1)} MB as text; notices kept ${flooded.notices.length}, dropped ${flooded.notices_dropped ?? 0}`,
    );
    expect(soakSeconds, 'the soak is bounded in time').toBeLessThan(240);
  }, 300_000);
});
