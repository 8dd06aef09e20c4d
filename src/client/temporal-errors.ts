/**
 * What Temporal's refusals mean, in words a user can act on. The SDK wraps a server's or the
 * network's refusal in a generic error (`Failed to start Workflow`, `Failed to signal Workflow`)
 * whose cause says what happened (`received message larger than max (6866867 vs. 4194304)`,
 * `exceeded workflow execution limit for signal events`): these keep the cause, and name the
 * limit and what to do.
 */
import { bytesText, countText, LIMITS } from '../core/api/limits.js';

/** Every message in an error's chain of causes, outermost first, each once. */
export function causeMessages(err: unknown): string[] {
  const messages: string[] = [];
  for (let at: unknown = err, depth = 0; at && depth < 10; depth++) {
    const e = at as { message?: unknown; details?: unknown; cause?: unknown };
    for (const m of [e.message, e.details]) {
      if (typeof m === 'string' && m.trim() !== '' && !messages.some((known) => known.includes(m))) messages.push(m.trim());
    }
    at = e.cause;
  }
  return messages;
}

/** The error with its causes in its message: what the CLI prints. */
export function withCauses(err: unknown): string {
  const messages = causeMessages(err);
  return messages.length > 0 ? messages.join(': ') : String(err);
}

export type TemporalCall = 'start' | 'signal' | 'update' | 'query';

/**
 * An Error saying what Temporal refused and why, with the limit and the fix when it is one of
 * Baton's known limits; otherwise the original message with its causes.
 */
export function explainTemporalError(err: unknown, call: TemporalCall, runId: string): Error {
  const all = causeMessages(err).join(': ');
  const tooLarge = /larger than max \((\d+) vs\. (\d+)\)/.exec(all);
  if (call === 'start' && (tooLarge || /blob data size exceeds limit|exceeds size limit|RESOURCE_EXHAUSTED/i.test(all))) {
    const size = tooLarge ? ` (${bytesText(Number(tooLarge[1]))}; Temporal takes at most ${bytesText(Number(tooLarge[2]))} in one request)` : '';
    return new Error(
      `Temporal refused to start run ${runId}: its input is too large${size} (${all}). A run's input may be at most ${bytesText(LIMITS.runInputBytes)}: ` +
        `keep large data in files named in shared_artifacts, or split the plan into several runs of at most ${countText(LIMITS.phases)} phases`,
    );
  }
  if (/limit for signal events|signal count limit/i.test(all)) {
    return new Error(
      `run ${runId} has taken all the signals Temporal allows one execution (history.maximumSignalsPerExecution, ${countText(LIMITS.temporalSignalsPerExecution)} on default settings), so Temporal refused this one (${all}). ` +
        `The run takes signals again once it continues as new, which it does when Temporal suggests it and its phases in flight have finished; an operator can raise the limit in the server's dynamic config`,
    );
  }
  if (/total updates|limit.*updates|updates.*limit/i.test(all) && call === 'update') {
    return new Error(
      `run ${runId} has taken all the updates Temporal allows one execution (history.maxTotalUpdates, ${countText(LIMITS.temporalUpdatesPerExecution)} on default settings), so Temporal refused this one (${all}); it takes updates again once it continues as new`,
    );
  }
  if (/blob data size exceeds limit|larger than max/i.test(all)) {
    return new Error(`Temporal refused a ${call} to run ${runId} as too large (${all}): Baton keeps every payload well inside Temporal's ${bytesText(LIMITS.temporalPayloadBytes)}; a worker of an older Baton may not`);
  }
  if (!(err instanceof Error)) return new Error(String(err));
  // The SDK's own words (`Failed to signal Workflow`) say nothing without their cause: keep the error, say it all.
  if (causeMessages(err).length > 1) err.message = all;
  return err;
}
