/**
 * The shape of the `status` query and of the workflow's result.
 * Type-only and pure so the client, the CLI and the workflow share it.
 */
import type { PhaseContext, PhaseState } from '../handoff/schema.js';
import type { PhaseId } from '../plan/schema.js';

export const RUN_STATES = ['running', 'paused', 'held', 'completed', 'failed', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];

export interface PhaseStatus {
  id: PhaseId;
  name: string;
  state: PhaseState;
  /** Attempts across every generation of the phase. */
  attempts: number;
  generation: number;
  resource_class: string;
  task_queue: string;
  /** When the workflow handed the phase to its queue. */
  scheduled_at: string | null;
  /** When the phase's last attempt began and ended executing on its worker or agent. */
  started_at: string | null;
  finished_at: string | null;
  depends_on: PhaseId[];
  error?: string;
  /** Output of the phase once completed. */
  context?: PhaseContext;
  /** Who ran the last attempt (`host:pid` of the worker, or the agent). */
  executed_by?: string;
  /** Hash of the sealed package the last attempt ran from. */
  content_hash?: string;
  /** Where that package was saved, when handoff files are on. */
  handoff_path?: string;
  /** Why the package could not be saved and the phase ran inline anyway. */
  handoff_fallback?: string;
  /** Whether the phase goes to an external agent rather than a worker. */
  separate_agent: boolean;
  /** While the phase waits for an external agent: what it waits on and until when. */
  awaiting?: AwaitingAgent;
  /** The agent's latest progress report. */
  progress?: { message: string; percent?: number; at: string };
  /** Why a phase meant for an agent ran on a worker instead (the agent did not report in time). */
  agent_fallback?: string;
  /** Who ran the phase from which package, and what they reported: the chain from package to result. */
  provenance?: PhaseProvenance;
  /** Why a phase handed to its queue has not started: no worker polls the queue, or all are busy. */
  waiting_for_workers?: string;
  /** The earlier run whose output this phase reuses (`baton run --resume-from`). */
  reused_from?: string;
  /** What a retryPhase changed for this phase (resource class, timeout, retries, config). */
  override?: Record<string, unknown>;
  /**
   * Finished in an earlier segment of a run that continued as new: this entry keeps the state,
   * and the full status and output are in the archive file (see RunStatus.continued).
   */
  archived?: true;
  /** The phase's rollback, once it was abandoned. */
  compensation?: { state: 'running' | 'completed' | 'failed'; at: string; error?: string };
}

export interface AwaitingAgent {
  since: string;
  deadline: string | null;
  package_hash: string;
  handoff_path: string;
  script_path: string;
}

export interface PhaseProvenance {
  via: 'worker' | 'agent';
  executed_by: string;
  package_hash: string | null;
  result_hash: string | null;
  mode: 'inline' | 'online' | 'offline';
  host?: string;
  user?: string;
  agent?: string | null;
  started_at: string;
  finished_at: string;
}

export interface RunStatus {
  execution_id: string;
  plan: string;
  /** Where the run's files are (handoffs, logs, outputs, execution_context.json). */
  workdir: string;
  /** Whether packages are saved under `<workdir>/handoffs/` (agent_handoff_enabled). */
  handoffs_enabled: boolean;
  state: RunState;
  paused: boolean;
  started_at: string;
  finished_at: string | null;
  /** Why the run holds, when it does: the failed phases and what an operator can do. */
  held_reason?: string;
  /** Signals the run refused (unknown phase, wrong state), newest last, so an operator sees why nothing happened. */
  notices: string[];
  /** Set once the run has continued as new: how often, and the archive files (under the workdir) of finished phases. */
  continued?: { segment: number; archives: string[] };
  phases: Record<string, PhaseStatus>;
  /** Finished phases left out of `phases` to keep this status within Temporal's size limits. */
  omitted_phases?: number;
}

export const TERMINAL_RUN_STATES: readonly RunState[] = ['completed', 'failed', 'cancelled'];
