/**
 * An external agent's side of mode 2: turning what it ran into a sealed result bound to the
 * run, the phase, the generation, the attempt and the exact package (by hash).
 */
import os from 'node:os';
import { cutText, LIMITS } from '../core/api/limits.js';
import { RESULT_SCHEMA_VERSION, type AgentResult, type Provenance } from '../core/handoff/result.js';
import type { HandoffPackage, PhaseContext } from '../core/handoff/schema.js';
import { redactSecrets } from '../core/handoff/secrets.js';
import { seal, signingKeyFromEnv } from '../runner/signing.js';

export type AgentOutcome = { ok: true; output: PhaseContext } | { ok: false; error: string };

export function agentProvenance(mode: Provenance['mode'], startedAt: Date, finishedAt: Date): Provenance {
  return {
    host: os.hostname(),
    user: os.userInfo().username,
    agent: process.env.BATON_AGENT_NAME ?? null,
    mode,
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
  };
}

export function buildAgentResult(pkg: HandoffPackage, outcome: AgentOutcome, provenance: Provenance): AgentResult {
  if (!pkg.content_hash) throw new Error('the package has no content_hash: it was not sealed by a Baton worker, so no result can be bound to it');
  const result: AgentResult = {
    schema_version: RESULT_SCHEMA_VERSION,
    execution_id: pkg.execution_id,
    phase: pkg.to_phase,
    generation: pkg.generation,
    attempt: pkg.attempt,
    package_hash: pkg.content_hash,
    outcome: outcome.ok ? 'completed' : 'failed',
    output: outcome.ok ? outcome.output : null,
    // Free-form (a command's stderr tail): credentials redacted, as the run refuses a result that carries one;
    // and its start only: a run takes errors of at most LIMITS.resultErrorChars (and keeps less).
    error: outcome.ok ? null : cutText(redactSecrets(outcome.error), LIMITS.resultErrorChars),
    provenance,
    content_hash: null,
    signature: null,
  };
  return seal(result, signingKeyFromEnv());
}
