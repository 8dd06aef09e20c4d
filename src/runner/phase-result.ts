/**
 * What running a phase reports: its output, and who ran which package when.
 */
import type { PhaseContext } from '../core/handoff/schema.js';

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
