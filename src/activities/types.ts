/**
 * The activity contracts the workflow calls. The workflow imports these types only,
 * never the implementations, which live on workers and do I/O.
 */
import type { HandoffPackage, PhaseContext } from '../handoff/schema.js';
import type { RunStatus } from '../workflows/status.js';

export interface PhaseRunResult extends PhaseContext {
  /** Temporal's attempt number of the activity that succeeded. */
  attempt: number;
  executed_by: string;
  started_at: string;
  finished_at: string;
  /** Where the package was written, when files are on. */
  handoff_path: string | null;
  /** The sealed package's hash: ties this result to exactly the package it ran from. */
  content_hash: string | null;
  /** Why the package could not be saved and the phase ran inline anyway (on_handoff_failure: inline). */
  handoff_fallback: string | null;
}

/** Carried in an ApplicationFailure's details so the workflow can count attempts. */
export interface PhaseFailureDetails {
  attempt: number;
  executed_by: string;
}

export interface PhaseActivities {
  runPhase(handoff: HandoffPackage): Promise<PhaseRunResult>;
}

export interface OrchestratorActivities {
  writeExecutionContext(status: RunStatus, workdir: string, baseDir: string | null): Promise<void>;
}
