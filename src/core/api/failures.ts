/**
 * Every failure type Baton raises, in one catalogue. People match on these names from the
 * Temporal CLI (`temporal workflow show`), the Web UI and code (`err.cause.type`), so they are
 * a contract: add new ones here, never rename one. Pure, so the workflow uses it too.
 */
import { ApplicationFailure } from '@temporalio/common';
import { redactSecrets } from '../handoff/secrets.js';

export interface FailureInfo {
  /** Whether trying the same thing again can help: retryable failures use the phase's retries. */
  readonly retryable: boolean;
  /** What it means, and what to do about it: the README's table is written from these. */
  readonly meaning: string;
  /**
   * A refusal of what someone sent (an update's validator): it is about their input, not Baton's
   * code, so it carries no stack trace (the Web UI's dialog shows the message alone).
   */
  readonly refusal?: true;
}

export const FAILURES = {
  // The run as a whole.
  InvalidPlan: { retryable: false, meaning: 'The plan, config or workflow input was refused before anything ran; the message lists every problem. Fix the plan and start a new run.' },
  PhaseFailed: { retryable: false, meaning: 'The run ended failed: a phase used its retries under `failed_phase_policy: fail`. The details carry the final status.' },
  // Requests to a run (updates).
  InvalidRequest: { retryable: false, refusal: true, meaning: "An update asked for something the run cannot do as it stands (an unknown phase, a phase in the wrong state, an operator's output that its `output_schema` or the workdir refuses); nothing changed." },
  ResultRefused: { retryable: false, refusal: true, meaning: "An agent's result was refused (wrong run, phase, generation, attempt or package; bad signature, files or output); the phase keeps waiting for a good one." },
  // A phase's attempt.
  PhaseCommandFailed: { retryable: true, meaning: "The phase's command exited non-zero or was killed; the message quotes its stderr tail and names the full log." },
  CommandNotStarted: { retryable: false, meaning: "The phase's (or rollback's) command could not be started: the program or its directory is missing on the worker." },
  PhaseCancelled: { retryable: false, meaning: 'The phase was cancelled while it ran (the run was aborted).' },
  PhaseTimedOut: { retryable: false, meaning: "The phase ran past its `timeout_s` on its last try (each earlier try that timed out was retried, as Temporal's timeout failure)." },
  WorkerCannotRun: { retryable: true, meaning: "The worker that took the phase lacks something it needs (the run's workdir, a dependency's file, the plan's directory, the program, the signing key a run with `require_signed_packages` needs): another worker of the class takes it, without spending the phase's retries; after `worker_loss_retries` such hand-overs the phase fails. A worker refused this way three times in a row stops taking work from its queue and says why." },
  WorkerLost: { retryable: false, meaning: "The phase was interrupted more often than `worker_loss_retries` allows (its workers died, shut down, or could not run it, or Temporal's Pause/Reset stopped it): the phase itself never failed. Retry it once the workers are healthy." },
  PhaseError: { retryable: true, meaning: 'An unexpected error on the worker while running the phase; retried like a failed command.' },
  InvalidPhaseOutput: { retryable: true, meaning: 'What the phase\'s command wrote to BATON_OUTPUT is not UTF-8 JSON of the form `{"context": {...}, "artifacts": {"name": "relative/path"}}`, or is over a limit (file size, keys, artifacts, the report\'s size: see *A command phase*); nothing of it was stored or committed.' },
  InvalidHandlerOutput: { retryable: false, meaning: 'A handler phase returned something other than `{context, artifacts}`, or an output over the same limits.' },
  InvalidArtifact: { retryable: false, meaning: "An artifact the phase reported is missing, not a file, or outside the run's workdir." },
  SecretInOutput: { retryable: false, meaning: "The phase's output carries something that looks like a credential; it never reaches history. Output a reference to the secret instead." },
  UnknownHandler: { retryable: false, meaning: 'The phase names a handler the worker that took it does not register.' },
  InvalidHandoff: { retryable: false, meaning: 'The package the phase received is not a valid handoff package (a worker of another version?).' },
  HandoffFailed: { retryable: false, meaning: 'The package could not be sealed or saved, and `on_handoff_failure` is `fail` (or the phase goes to an agent, which needs the file); or it carries credentials, and such a package never runs, whatever `on_handoff_failure` says.' },
  DependencyFileChanged: { retryable: false, meaning: "A dependency's file changed or vanished since it was recorded; retry the phase with `refresh: true` to take the files as they are now, or retry the dependency." },
  StoreUnavailable: { retryable: true, meaning: "The run's store (its config's `store`, or BATON_STORE) could not be reached, refused the worker's credentials, or failed while a phase's inputs were fetched or its files stored: an interruption, tried again without spending the phase's retries (up to `worker_loss_retries`, then `WorkerLost`). `baton doctor --store` says why." },
  ContextUnavailable: { retryable: false, meaning: "A dependency's stored context value is missing or does not match its hash." },
  // The orchestrator's own work for a phase.
  RefreshFailed: { retryable: false, meaning: "`retryPhase` with `refresh: true` could not re-read a dependency's files." },
  ArchiveUnavailable: { retryable: true, meaning: 'A phase needs an output that a continue-as-new archived, and the archive file cannot be read.' },
  CompensationFailed: { retryable: true, meaning: "A phase's rollback command failed; recorded in the phase's `compensation`, never fails the run." },
} as const satisfies Record<string, FailureInfo>;

export type FailureType = keyof typeof FAILURES;
export const FAILURE_TYPES = Object.keys(FAILURES) as FailureType[];

export function isFailureType(type: unknown): type is FailureType {
  return typeof type === 'string' && Object.hasOwn(FAILURES, type);
}

/**
 * An ApplicationFailure of a catalogued type, retryable as the catalogue says. Its message goes into
 * history, the status and execution_context.json, and may quote what others wrote (a command's
 * stderr, an output that is not JSON, a handler's exception): credentials in it are redacted here,
 * the one place every failure is made.
 */
export function failure(type: FailureType, message: string, ...details: unknown[]): ApplicationFailure {
  const made = ApplicationFailure.create({ type, message: redactSecrets(message), nonRetryable: !FAILURES[type].retryable, details });
  if ((FAILURES[type] as FailureInfo).refusal) made.stack = '';
  return made;
}

/** A failure of a retryable type that must not be retried any more (its attempts are used up). */
export function finalFailure(type: FailureType, message: string, ...details: unknown[]): ApplicationFailure {
  return ApplicationFailure.create({ type, message: redactSecrets(message), nonRetryable: true, details });
}
