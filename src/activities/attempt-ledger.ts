/**
 * Which of a phase's attempts failed and which were interrupted, carried from attempt to attempt
 * in the activity's heartbeat details (Temporal hands the last ones to the next attempt).
 *
 * Temporal counts every attempt the same, but Baton's `retries` are for the phase failing: a
 * worker that died, shut down or could not run the phase, and Temporal's own Pause and Reset,
 * interrupt an attempt without it failing. So the workflow gives the activity `retries + 1 +
 * worker_loss_retries` attempts, and the activity itself decides, from this ledger, when the
 * phase has failed `retries + 1` times (then it fails for good) or been interrupted more than
 * `worker_loss_retries` times (then Temporal's attempts run out).
 */
export interface AttemptLedger {
  /** Attempts in which the phase itself failed (its command, its output, its timeout). */
  failures: number;
  /** Attempts that ended without the phase failing. */
  interruptions: number;
  /** How the last attempt ended, in a few words, and whether it was interrupted or failed. */
  last?: { kind: 'failure' | 'interruption'; why: string };
}

const KEY = 'baton_attempts';

/**
 * Why an attempt that recorded nothing ended, when nothing more is known: its heartbeats stopped
 * reaching Temporal. That is not the same as its worker dying: a server restart, or a connection
 * lost for longer than the heartbeat timeout, look the same from here.
 */
export const HEARTBEATS_STOPPED = 'its heartbeats stopped reaching Temporal (its worker may have died or lost its connection, or the server restarted)';

/**
 * The ledger the previous attempt left. Attempts that ended with nothing recorded are counted too:
 * the last of them by how Temporal says it ended (`lastEnding`: its start-to-close timeout passed,
 * so the phase ran too long: a failure), the others as interrupted (their heartbeats stopped:
 * `lostWhy` says what is known of why).
 */
export function ledgerAtStart(heartbeatDetails: unknown, attempt: number, lastEnding: 'timed out' | 'lost' = 'lost', lostWhy: string = HEARTBEATS_STOPPED): AttemptLedger {
  const recorded = readLedger(heartbeatDetails);
  // Fewer attempts before this one than the ledger counts: Temporal's attempt counter went back to 1,
  // which is an operator's Reset (a full set of retries) of a phase waiting between attempts.
  if (attempt - 1 < recorded.failures + recorded.interruptions) return { failures: 0, interruptions: 0, last: { kind: 'interruption', why: 'reset by an operator' } };
  const unrecorded = Math.max(0, attempt - 1 - recorded.failures - recorded.interruptions);
  if (unrecorded === 0) return recorded;
  if (lastEnding === 'timed out') {
    return { failures: recorded.failures + 1, interruptions: recorded.interruptions + unrecorded - 1, last: { kind: 'failure', why: 'ran past its timeout' } };
  }
  return { failures: recorded.failures, interruptions: recorded.interruptions + unrecorded, last: { kind: 'interruption', why: lostWhy } };
}

/** Attempts before this one that ended with nothing in the ledger (see ledgerAtStart). */
export function unrecordedAttempts(heartbeatDetails: unknown, attempt: number): number {
  const recorded = readLedger(heartbeatDetails);
  return Math.max(0, attempt - 1 - recorded.failures - recorded.interruptions);
}

export function readLedger(heartbeatDetails: unknown): AttemptLedger {
  const raw = heartbeatDetails && typeof heartbeatDetails === 'object' ? (heartbeatDetails as Record<string, unknown>)[KEY] : undefined;
  if (!raw || typeof raw !== 'object') return { failures: 0, interruptions: 0 };
  const { failures, interruptions, last } = raw as Record<string, unknown>;
  const count = (n: unknown): number => (typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0);
  const ended = last && typeof last === 'object' ? (last as Record<string, unknown>) : undefined;
  const kind = ended?.kind === 'failure' || ended?.kind === 'interruption' ? ended.kind : undefined;
  return {
    failures: count(failures),
    interruptions: count(interruptions),
    ...(kind && typeof ended?.why === 'string' ? { last: { kind, why: ended.why } } : {}),
  };
}

/** Heartbeat details carrying the ledger, beside whatever else the heartbeat says. */
export function withLedger(ledger: AttemptLedger, details: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...details, [KEY]: ledger };
}
