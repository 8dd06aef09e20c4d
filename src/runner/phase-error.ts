/**
 * A phase failure with a catalogued type; whether it is worth retrying comes from the catalogue.
 * Plain Error (no Temporal): the runner also serves `baton execute-phase` on machines with no worker.
 */
import { FAILURES, type FailureType } from '../core/api/failures.js';
import { redactSecrets } from '../core/handoff/secrets.js';

export class PhaseExecutionError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly type: FailureType,
    message: string,
  ) {
    // Messages quote what the phase wrote (its stderr, its output): credentials are redacted before
    // the message goes anywhere (history, an agent's result, the terminal).
    super(redactSecrets(message));
    this.name = 'PhaseExecutionError';
    this.retryable = FAILURES[type].retryable;
  }
}
