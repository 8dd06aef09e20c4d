/**
 * The activity contracts the workflow calls. The workflow imports these types only,
 * never the implementations, which live on workers and do I/O.
 */
import type { AgentResult } from '../core/handoff/result.js';
import type { HandoffPackage, PhaseContext } from '../core/handoff/schema.js';
import type { ActivitySettings, PhaseActivity, PhaseStatus, Reset, RunStatus } from '../core/api/status.js';
import type { Resume } from '../core/api/run-input.js';
import type { Phase } from '../core/plan/schema.js';
import type { PhaseRunResult } from '../runner/phase-result.js';

export type { PhaseRunResult };

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
  /** The plan's safe_keys, for the scan of values stored by reference (absent in runs from before it). */
  safe_keys?: string[];
  /** The run's store, when its config names one (else BATON_STORE here, or none). */
  store?: string;
}

/** The output an operator gives a phase (markPhaseDone): BATON_OUTPUT's form. */
export interface OperatorOutput {
  phase: string | number;
  context: Record<string, unknown>;
  artifacts: Record<string, string>;
}

/** What a run made by a Reset learns of it from its history (see ResetWatch). */
export interface ResetOrigin {
  /** The reset that made this Temporal run; null when its history does not say (it always should). */
  reset: Reset | null;
  /**
   * Per phase, the highest generation the runs it replaced handed out (the base run, and theirs
   * in turn): a phase this run starts again gets a higher one, so no earlier package or log is
   * overwritten and the idempotency key of work that may have happened is never reused.
   */
  generations: Record<string, number>;
}

export interface QueueWatch {
  /** Activity ids a worker is running. */
  started: string[];
  /** Activity ids still waiting in their queue. */
  scheduled: string[];
  /** Live workers per task queue. */
  workers: Record<string, number>;
}

/** What the watch has to say about one phase's activity (only phases with something to say have one). */
export interface PhaseWatchNote {
  /** Temporal's view of the activity, when it is paused, past its first attempt or has changed settings. */
  activity?: PhaseActivity;
  /** Set while the activity waits in its queue for a worker: the queue, and its live workers. */
  waiting?: { task_queue: string; workers: number };
}

export interface PhaseWatchRequest {
  workflowId: string;
  /** What the run last heard, by activity id, as fingerprints of the notes (core/api/fingerprint.ts): the watch answers once Temporal's view differs. */
  known: Record<string, string>;
  /** The settings the run gave its phases' activities: `usual`, but `except[activityId]` where given. */
  settings: { usual: ActivitySettings; except: Record<string, ActivitySettings> };
}

export interface PhaseWatch {
  /** By activity id, every pending phase activity with something to say. */
  notes: Record<string, PhaseWatchNote>;
}

/** Served by the orchestrator worker, on the task queue `baton`. */
export interface OrchestratorActivities {
  writeExecutionContext(status: RunStatus, workdir: string, baseDir: string | null, store?: string): Promise<void>;
  /** Writes execution_context.json from the run's `status` query (so the status never enters history). */
  exportExecutionContext(workflowId: string, workdir: string, baseDir: string | null, store?: string): Promise<void>;
  /** Before a continue-as-new: writes finished phases' full status and output to an archive file; returns its path in the workdir. */
  archivePhases(executionId: string, segment: number, entries: Record<string, { status: PhaseStatus; output?: PhaseContext }>, workdir: string, baseDir: string | null, store?: string): Promise<string>;
  /** Reads archived phases' outputs back, for a package that needs them. */
  archivedOutputs(archives: string[], keys: string[], workdir: string, baseDir: string | null, store?: string): Promise<Record<string, PhaseContext>>;
  /** Seals, signs and saves a package for an external agent. */
  handOffToAgent(handoff: HandoffPackage): Promise<AgentHandoff>;
  /**
   * Compiles phases' `output_schema`s (by phase index in the plan) before any phase runs, off the
   * worker's main thread and with a time limit; returns why each that cannot be used cannot.
   */
  checkOutputSchemas(schemas: Record<string, Record<string, unknown>>): Promise<Record<string, string>>;
  /**
   * Checks the output an operator gives a phase (markPhaseDone) as an agent's is checked: the context
   * against the phase's output_schema, the artifacts as files in the workdir (hashed into references),
   * large context values into the context store. Returns the output as the run records it; throws
   * InvalidRequest with every problem.
   */
  checkOperatorOutput(output: OperatorOutput, check: Omit<ResultCheck, 'accept_unsigned'>): Promise<PhaseContext>;
  /** Checks an agent's result: signature, reported files, output schema. Throws ResultRefused. */
  verifyAgentResult(result: AgentResult, check: ResultCheck): Promise<void>;
  /**
   * Makes the run's workdir and marks it as the run's (`runs/<execution_id>/.opened`), before any
   * phase runs: a worker that finds no mark does not have the workdir, and leaves the phase to another.
   */
  openWorkdir(workdir: string, baseDir: string | null, executionId: string): Promise<void>;
  /** Baton's search attributes that the namespace has registered with the right type. */
  registeredSearchAttributes(): Promise<string[]>;
  /** Which phase activities have started, and the live workers on their queues (runs from before baton-phase-watch-1). */
  watchQueues(workflowId: string, taskQueues: string[]): Promise<QueueWatch>;
  /**
   * A run started with a `resume` block: why its outputs are not those the run it names recorded,
   * one line per phase (none: every one checks). `phases`: the reused phases' definitions.
   */
  verifyResume(resume: Resume, phases: Record<string, Phase>, workdir: string, baseDir: string | null, store?: string): Promise<string[]>;
  /** In a run made by a Reset: the reset, and the generations the replaced runs used (read from their histories). */
  resetOrigin(): Promise<ResetOrigin>;
  /**
   * Looks at the run's phase activities in Temporal every few seconds and answers once what it sees
   * differs from what the run knows (a phase waits for workers, is paused, retries, has new
   * settings, or stops doing so), when none is left, or after ten minutes.
   */
  watchPhases(request: PhaseWatchRequest): Promise<PhaseWatch>;
  /** The outputs with their artifacts re-hashed from the files as they are now (retryPhase refresh). */
  refreshArtifacts(outputs: Record<string, PhaseContext>, workdir: string, baseDir: string | null): Promise<Record<string, PhaseContext>>;
}
