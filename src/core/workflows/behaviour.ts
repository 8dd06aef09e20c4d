/**
 * How this run behaves where Baton changed in ways that would break runs in flight. Each change
 * is decided once, with `patched()`, at the start of the run: runs recorded before it replay the
 * old behaviour, new runs get the new one. tests/replay/ replays histories of both.
 */
import { patched } from '@temporalio/workflow';
import type { UnknownKeys } from '../plan/schema.js';

/**
 * Since this patch: execution_context.json is exported on a 2-second cadence by a regular activity
 * (before: after every phase, by a local activity), queue watches are regular activities, and the
 * run continues as new when Temporal suggests it.
 */
export const LARGE_PLANS_PATCH = 'baton-large-plans-1';

/**
 * Since this patch, an interrupted attempt (a lost or shut-down worker, one that cannot run the
 * phase, Temporal's Pause or Reset) does not spend the phase's retries: a phase activity gets
 * `retries + 1 + worker_loss_retries` attempts and the worker counts which failed (see
 * activities/attempt-ledger.ts), where before the workflow sent a phase whose worker stopped
 * heartbeating to another one with a new activity. And the run makes its workdir before its first
 * phase, since a worker that finds no workdir now leaves the phase to another.
 */
export const INTERRUPTIONS_PATCH = 'baton-interruptions-1';

/**
 * Since this patch the run watches its phases through one activity that answers only when
 * Temporal's view of them changes (a phase waits for workers, is paused, retries, gets new
 * settings), for as long as any phase runs on a worker; before it, an activity on a timer that
 * backed off from 5 s to 5 minutes, only while a phase had not started.
 */
export const PHASE_WATCH_PATCH = 'baton-phase-watch-1';

/**
 * Since this patch a run whose plan gives phases an `output_schema` has them compiled (JSON
 * Schema draft 2020-12, on the orchestrator worker: the sandbox runs no validator) by the
 * checkOutputSchemas activity before anything else, and fails with InvalidPlan if one cannot be
 * used; before it, such a schema was taken as it was and refused every result.
 */
export const OUTPUT_SCHEMAS_PATCH = 'baton-output-schemas-1';

/**
 * Since this patch a run trusts only what it can check. It refuses a `continued` block unless a run
 * continued into it (workflowInfo's continuedFromExecutionRunId: a hand-started run has none), and
 * checks a `resume` block against the run it names (the `verifyResume` activity, a command runs
 * from before it did not make) before it reuses a phase; credentials are refused in every field of
 * the plan (names, descriptions, rollbacks, output schemas: before, only contexts, configs and
 * commands), in a resume block and in a retryPhase's overrides.
 */
export const TRUSTED_INPUT_PATCH = 'baton-trusted-input-1';

export function checksInputs(): boolean {
  return patched(TRUSTED_INPUT_PATCH);
}

/**
 * Since this patch, the run's input and every signal are held to Baton's bounds (sizes, counts,
 * nesting, ranges: see api/limits.ts) besides their schemas: a plan, config or signal over one is
 * refused where before it was taken. Runs started before it replay with what they took then.
 * (Updates need no patch: their validators do not run on replay. Cutting notices and errors to
 * size changes no command.)
 */
export const BOUNDS_PATCH = 'baton-bounds-1';

/** Whether this run holds its input and signals to Baton's bounds (BOUNDS_PATCH). */
export function boundedInputs(): boolean {
  return patched(BOUNDS_PATCH);
}

export interface RunBehaviour {
  /** Cancel activities with WAIT_CANCELLATION_COMPLETED, and wind an aborted run down in order (ORDERLY_ABORT_PATCH). */
  readonly waitsForCancellation: boolean;
  /** Export execution_context.json on a cadence, mid-run exports by a regular activity. */
  readonly exportsOnCadence: boolean;
  /** Watch the phases' queues with a regular activity rather than a local one. */
  readonly watchesByActivity: boolean;
  /** Continue as new when Temporal suggests it (or after `continue_as_new_after_phases`). */
  readonly continuesAsNew: boolean;
  /** Interrupted attempts are retried by Temporal without spending the phase's retries (else: re-dispatched by the workflow). */
  readonly interruptionsSpareRetries: boolean;
  /** Make the run's workdir (an activity on the orchestrator worker) before any phase runs. */
  readonly opensWorkdir: boolean;
  /** Watch the running phases with watchPhases (answers on change) rather than watchQueues on a timer. */
  readonly watchesPhases: boolean;
  /** Compile the plan's output_schemas (an activity on the orchestrator worker) before anything runs. */
  readonly checksOutputSchemas: boolean;
  /** Check a resume block against its run, refuse credentials in overrides (TRUSTED_INPUT_PATCH). */
  readonly checksInputs: boolean;
  /** Hold signals to Baton's bounds besides their schemas (BOUNDS_PATCH). */
  readonly boundsInputs: boolean;
}

export function runBehaviour(): RunBehaviour {
  const largePlans = patched(LARGE_PLANS_PATCH);
  const interruptions = patched(INTERRUPTIONS_PATCH);
  const orderlyAbort = waitsForCancellation();
  const phaseWatch = patched(PHASE_WATCH_PATCH);
  const outputSchemas = patched(OUTPUT_SCHEMAS_PATCH);
  return {
    exportsOnCadence: largePlans,
    watchesByActivity: largePlans,
    continuesAsNew: largePlans,
    interruptionsSpareRetries: interruptions,
    opensWorkdir: interruptions,
    waitsForCancellation: orderlyAbort,
    watchesPhases: phaseWatch,
    checksOutputSchemas: outputSchemas,
    checksInputs: checksInputs(),
    boundsInputs: boundedInputs(),
  };
}

/**
 * Since this patch, a plan or config with a key Baton does not know is refused (with the key it
 * probably meant) rather than the key dropped: runs started before it, with such a key, replay as
 * they ran.
 */
export const STRICT_PLANS_PATCH = 'baton-strict-plans-1';

export function unknownPlanKeys(): UnknownKeys {
  return patched(STRICT_PLANS_PATCH) ? 'refuse' : 'ignore';
}

/**
 * Since this patch, an abort is orderly: activities are cancelled with WAIT_CANCELLATION_COMPLETED,
 * so the run hears that a phase was cancelled only once its worker has stopped it (its command's
 * whole process group gone); a phase's rollback starts after that, not beside it; and the run ends
 * only once its own activities (exports, queue watches) have ended too, leaving no activity pending
 * on a closed run. Runs started before it cancel as they did (the rollback was scheduled in the
 * same workflow task as the cancellation), so their histories replay.
 */
export const ORDERLY_ABORT_PATCH = 'baton-orderly-abort-1';

export function waitsForCancellation(): boolean {
  return patched(ORDERLY_ABORT_PATCH);
}

/**
 * A run made by Temporal's Reset replays the events it copied from the run it replaces, then goes
 * on live. `patched(resetPatch(n))`, asked only in such a run, is false while the copied events
 * replay (the marker is not there) and true from its first live workflow task (which records the
 * marker, so replays agree): how the run knows, deterministically, that it is past the reset
 * point. n counts the resets in this run's history, since a run reset twice carries the first
 * reset's marker in the events it copied.
 */
export function resetPatch(n: number): string {
  return `baton-reset-${n}`;
}

/**
 * Whether this Temporal run was made by a Reset. Live, a reset run's id differs from the one its
 * (copied) start event recorded; a run that continued as new has a start event of its own, so its
 * ids agree. A standalone replay of a recorded history takes the start event's run id for the run
 * id, so tests/replay replays a reset run's history with that id set to the reset run's; then
 * the run is the first of its chain by id though nothing continued into it, which only a reset run is.
 */
export function isResetRun(info: { runId: string; originalExecutionRunId: string; firstExecutionRunId: string; continuedFromExecutionRunId?: string }): boolean {
  if (info.runId !== info.originalExecutionRunId) return true;
  return info.runId !== info.firstExecutionRunId && info.continuedFromExecutionRunId === undefined;
}
