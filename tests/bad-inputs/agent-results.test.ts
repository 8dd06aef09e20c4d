/**
 * The bad-input catalogue: agents' results that are sealed and signed correctly but claim what the
 * package handed out does not say, or hold what the contract (docs/agent-contract.md) does not
 * allow. Each is refused with ResultRefused and the reason; the phase keeps waiting, the run
 * answers status, can be aborted, and keeps what it had.
 */
import { describe, expect, it } from 'vitest';
import type { RunHandle } from '../../src/client/orchestrator.js';
import type { RunStatus } from '../../src/core/api/status.js';
import type { AgentResult } from '../../src/core/handoff/result.js';
import { hmacKeyId, seal } from '../../src/runner/signing.js';
import { fixturePhase, tempDir, until, workerForFile } from '../support/baton.js';

const KEY = 'bad-agent-results-test-key-0123456789';
const setup = workerForFile([], { BATON_HANDOFF_KEY: KEY });
const secret = Buffer.from(KEY);
const signed = (r: AgentResult): AgentResult => seal(r, { alg: 'hmac-sha256', keyId: hmacKeyId(secret), secret });

function resultFor(run: RunHandle, status: RunStatus, phase: string): AgentResult {
  return {
    schema_version: 1,
    execution_id: run.runId,
    phase,
    generation: status.phases[phase]!.generation!,
    attempt: 1,
    package_hash: status.phases[phase]!.awaiting!.package_hash,
    outcome: 'completed',
    output: { context: { value: 7 }, artifacts: {} },
    error: null,
    provenance: { host: 'h', user: 'u', agent: 'bad-agent', mode: 'online', started_at: '2026-12-01T09:00:00Z', finished_at: '2026-12-01T09:00:01Z' },
    content_hash: null,
    signature: null,
  };
}

/** The failure the update fails with: its type and message. */
async function refusal(promise: Promise<unknown>): Promise<{ type: string | undefined; message: string }> {
  const err = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as { cause?: { type?: string; message?: string }; message?: string } | undefined;
  expect(err, 'the result was accepted').toBeDefined();
  return { type: err!.cause?.type, message: err!.cause?.message ?? err!.message ?? '' };
}

describe('agent results that bind or hold the wrong thing', () => {
  it('are refused with ResultRefused and the reason; the run still answers, can be aborted, and keeps its work', async () => {
    const run = await setup.orchestrator.start({
      name: 'bad-agent-results',
      workdir: await tempDir(),
      phases: [fixturePhase(0), fixturePhase('agent', [0], {}, { use_separate_agent: true })],
    });
    const waiting = await until(run, 'the agent phase to wait', (s) => s.phases.agent?.state === 'awaiting_agent');
    expect(waiting.phases.agent!.awaiting!.attempt).toBe(1);
    const good = resultFor(run, waiting, 'agent');

    const cases: Array<[string, AgentResult, RegExp]> = [
      // Before: accepted, though the package handed out was attempt 1.
      [
        'a sealed result claiming attempt 7 of an attempt-1 package',
        signed({ ...good, attempt: 7 }),
        /^the result is for attempt 7 of phase agent, but the package handed out \(.*phase_agent\.json\) is attempt 1: copy "attempt" from the package$/,
      ],
      // Before: accepted, and then the run could not record when the failure happened: its workflow task failed on every try.
      [
        'a failed result whose finished_at is not a date',
        signed({ ...good, outcome: 'failed', output: null, error: 'it broke', provenance: { ...good.provenance, finished_at: 'yesterday' } }),
        /^the result is not valid: .*provenance\.finished_at/,
      ],
      // Before: accepted, as an inline value that merely looked like a reference.
      [
        'a context value with a half-made $baton_ref',
        signed({ ...good, output: { context: { report: { $baton_ref: { path: 'context-store/x.json' } } }, artifacts: {} } }),
        /^output\.context\.report: an object with "\$baton_ref" is a value stored by reference and must be \{"\$baton_ref": \{"sha256"/,
      ],
    ];
    // Straight to the update, as another SDK or the Temporal CLI would send it: the failure's type is the contract.
    const workflow = setup.orchestrator.client.workflow.getHandle(run.runId);
    for (const [what, result, message] of cases) {
      const refused = await refusal(workflow.executeUpdate('completePhase', { args: [result] }));
      expect(refused.type, what).toBe('ResultRefused');
      expect(refused.message, what).toMatch(message);
      const status = await run.status();
      expect(status.phases.agent!.state, what).toBe('awaiting_agent');
      expect(status.state, what).toBe('running');
    }

    // The run still answers, and an abort ends it with phase 0's work kept.
    await run.abort();
    const cancelled = await until(run, 'the abort', (s) => s.state === 'cancelled');
    expect(cancelled.phases['0']).toMatchObject({ state: 'completed', context: { context: { value: 1 } } });
    expect(cancelled.phases.agent!.state).toBe('failed');
    expect(cancelled.phases.agent!.provenance?.via).not.toBe('agent');
  });
});
