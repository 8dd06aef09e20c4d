/**
 * Accepting an external agent's result: whether it fits the phase as it stands, and what it
 * changes. Pure, like the run book it works on.
 */
import type { AgentResult } from '../handoff/result.js';
import { isContextRef } from '../handoff/schema.js';
import { carriesSecrets, describeFindings, findSecrets } from '../handoff/secrets.js';
import { formatPath } from '../plan/problems.js';
import { phaseKey } from '../plan/schema.js';
import { resultClaimProblem } from './claims.js';
import type { RunBook } from './run-book.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Matches the worker side's inline budget: larger values travel as context-store references. */
const MAX_INLINE_RESULT_CHARS = 256 * 1024;

/**
 * Why an agent's result cannot be accepted for the phase as it stands, or undefined.
 * Checked before the result is verified and again after, since the phase may move meanwhile.
 */
export function agentResultProblem(book: RunBook, result: AgentResult): string | undefined {
  if (result.execution_id !== book.executionId) {
    return `the result is for run ${result.execution_id}, but this is run ${book.executionId}; submit it to its own run`;
  }
  const key = phaseKey(result.phase);
  if (!book.has(key)) return `the result is for phase ${key}, which this run does not have (phases: ${book.keys().join(', ')})`;
  const rec = book.record(key);
  if (rec.state !== 'awaiting_agent' || !rec.awaiting) {
    return `phase ${key} is ${rec.state}, not awaiting an agent; nothing to complete`;
  }
  if (result.generation !== rec.generation) {
    return `the result is for generation ${result.generation} of phase ${key}, but the phase is at generation ${rec.generation}: run its current package (${rec.awaiting.handoff_path})`;
  }
  if (result.package_hash !== rec.awaiting.package_hash) {
    return `the result was made from package ${result.package_hash.slice(0, 19)}…, not the one handed out (${rec.awaiting.package_hash.slice(0, 19)}…): run the current package`;
  }
  // The package names its attempt, and the hash binds the package, but only this binds the result's claim to it.
  const attempt = rec.awaiting.attempt ?? 1;
  if (result.attempt !== attempt) {
    return `the result is for attempt ${result.attempt} of phase ${key}, but the package handed out (${rec.awaiting.handoff_path}) is attempt ${attempt}: copy "attempt" from the package`;
  }
  // While an agent holds a claim on the phase, only its result is taken (claims.ts).
  const claimed = resultClaimProblem(rec, key, result, Date.now());
  if (claimed) return claimed;
  if (result.outcome === 'completed' && !result.output) return 'a completed result needs an "output"';
  const badRef = result.output ? Object.entries(result.output.context).find(([, v]) => isRecord(v) && '$baton_ref' in v && !isContextRef(v)) : undefined;
  if (badRef) {
    return `${formatPath(['output', 'context', badRef[0]])}: an object with "$baton_ref" is a value stored by reference and must be {"$baton_ref": {"sha256": "<64 hex digits>", "size": <bytes>, "path": "<relative to the workdir>"}}`;
  }
  if (result.output && JSON.stringify(result.output.context).length > MAX_INLINE_RESULT_CHARS) {
    return `the result's inline context is over ${MAX_INLINE_RESULT_CHARS / 1024} KiB: store large values by reference (baton execute-phase does this), so history stays small`;
  }
  if (result.outcome === 'failed' && !result.error) return 'a failed result needs an "error" saying what went wrong';
  return undefined;
}

/**
 * Whether an agent's result carries credentials: anywhere in its output's context, its provenance
 * (the agent's name, user and host), or its error. A result is structured, so one that does is
 * refused, naming where, before anything is recorded (the update's validator): an accepted
 * update's input stays in history. `baton execute-phase` redacts a failed phase's error itself.
 */
export function agentResultSecrets(result: AgentResult, safeKeys: readonly string[]): string | undefined {
  const findings = [
    ...(result.output ? findSecrets(result.output.context, { root: 'output.context', safeKeys }) : []),
    ...findSecrets(result.output?.artifacts ?? {}, { root: 'output.artifacts', safeKeys }),
    ...findSecrets(result.provenance, { root: 'provenance' }),
  ];
  const lines = describeFindings(findings, 'output a reference to the secret instead (the agent\'s environment, a vault path), or list the key in the plan\'s "safe_keys" if it is not a secret');
  if (result.error !== null && carriesSecrets(result.error)) {
    lines.push('error: it quotes what looks like a credential; redact it (baton execute-phase does) and send the result again');
  }
  return lines.length > 0 ? `the result carries credentials, which never enter the run's history: ${lines.join('; ')}` : undefined;
}

export function completeFromAgent(book: RunBook, key: string, result: AgentResult): void {
  const entry = book.phase(key);
  const rec = entry.record;
  const p = result.provenance;
  const executedBy = `${p.agent ?? p.user}@${p.host}`;
  rec.provenance = {
    via: 'agent',
    executed_by: executedBy,
    package_hash: result.package_hash,
    result_hash: result.content_hash,
    mode: p.mode,
    host: p.host,
    user: p.user,
    agent: p.agent,
    started_at: p.started_at,
    finished_at: p.finished_at,
    // The claim the agent reported under, when it held one.
    ...(rec.awaiting?.claim ? { claim: rec.awaiting.claim } : {}),
  };
  delete rec.awaiting;
  if (result.outcome === 'completed') {
    entry.complete({
      output: result.output!,
      attempts: 1,
      executedBy,
      startedAt: p.started_at,
      finishedAt: p.finished_at,
      contentHash: result.package_hash,
      handoffPath: rec.handoff_path ?? null,
      handoffFallback: null,
    });
  } else {
    // A time no Date can hold would fail every workflow task from here on: results are checked for
    // it, but one taken before they were is read as now.
    const finished = new Date(p.finished_at);
    entry.fail(result.error ?? 'the agent reported a failure', 1, executedBy, Number.isNaN(finished.getTime()) ? new Date() : finished);
  }
}
