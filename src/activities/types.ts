/**
 * The activity contracts the workflow calls. The workflow imports these types only,
 * never the implementations, which live on workers and do I/O.
 */
import type { AgentResult } from '../handoff/result.js';
import type { HandoffPackage, PhaseContext } from '../handoff/schema.js';
import type { PhaseStatus, RunStatus } from '../workflows/status.js';

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
  /** Runs the phase's `compensate` command (its rollback) with the phase's package. */
  compensatePhase(handoff: HandoffPackage, argv: string[]): Promise<void>;
}

export interface AgentHandoff {
  package_hash: string;
  handoff_path: string;
  script_path: string;
}

export interface ResultCheck {
  workdir: string;
  base_dir: string | null;
  accept_unsigned: boolean;
  output_schema: Record<string, unknown> | null;
}

export interface QueueWatch {
  /** Activity ids a worker is running. */
  started: string[];
  /** Activity ids still waiting in their queue. */
  scheduled: string[];
  /** Live workers per task queue. */
  workers: Record<string, number>;
}

/** Served by the orchestrator worker, on the task queue `baton`. */
export interface OrchestratorActivities {
  writeExecutionContext(status: RunStatus, workdir: string, baseDir: string | null): Promise<void>;
  /** Writes execution_context.json from the run's `status` query (so the status never enters history). */
  exportExecutionContext(workflowId: string, workdir: string, baseDir: string | null): Promise<void>;
  /** Before a continue-as-new: writes finished phases' full status and output to an archive file; returns its path in the workdir. */
  archivePhases(executionId: string, segment: number, entries: Record<string, { status: PhaseStatus; output?: PhaseContext }>, workdir: string, baseDir: string | null): Promise<string>;
  /** Reads archived phases' outputs back, for a package that needs them. */
  archivedOutputs(archives: string[], keys: string[], workdir: string, baseDir: string | null): Promise<Record<string, PhaseContext>>;
  /** Seals, signs and saves a package for an external agent. */
  handOffToAgent(handoff: HandoffPackage): Promise<AgentHandoff>;
  /** Checks an agent's result: signature, reported files, output schema. Throws ResultRefused. */
  verifyAgentResult(result: AgentResult, check: ResultCheck): Promise<void>;
  /** Baton's search attributes that the namespace has registered with the right type. */
  registeredSearchAttributes(): Promise<string[]>;
  /** Which phase activities have started, and the live workers on their queues. */
  watchQueues(workflowId: string, taskQueues: string[]): Promise<QueueWatch>;
  /** The outputs with their artifacts re-hashed from the files as they are now (retryPhase refresh). */
  refreshArtifacts(outputs: Record<string, PhaseContext>, workdir: string, baseDir: string | null): Promise<Record<string, PhaseContext>>;
}
