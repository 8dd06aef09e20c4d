/**
 * What `baton ui`'s server answers, shared by the server and the page (type-only for the page).
 */
import type { RunStatus } from '../core/api/status.js';

/** One run in the list, from Temporal's visibility store (no query to the run). */
export interface RunRow {
  workflow_id: string;
  /** Temporal's run id of the latest run under the workflow id. */
  run_id: string;
  /** `BatonPlan`, when the run set it. */
  plan: string | null;
  /** What to show: Baton's state (`BatonState`) while the run is open, else how Temporal closed it. */
  state: string;
  /** Temporal's ExecutionStatus: `running`, `completed`, `failed`, `canceled`, `terminated`, `timed_out`, `continued_as_new`. */
  execution_status: string;
  /** `BatonPhasesHeld`, `BatonAwaitingAgent`, `BatonPhasesRunning` of an open run; empty once it has closed. */
  held_phases: string[];
  awaiting_agent: string[];
  running_phases: string[];
  started_at: string | null;
  closed_at: string | null;
  links: { baton: string; temporal: string };
}

export interface RunsResponse {
  /** Open runs (held, then awaiting an agent, then the rest), then the latest closed ones. */
  runs: RunRow[];
  /** The visibility queries the list came from, for the Temporal CLI or the Web UI's filter. */
  queries: string[];
  /** Whether more closed runs exist than are listed. */
  more: boolean;
}

export interface RunLinks {
  baton: string;
  temporal_run: string;
  /** The run's current details (the phase table) in the Web UI. */
  temporal_details: string | null;
  /** Pending activities: a running phase's activity, with Temporal's Pause, Reset and Update Options. */
  temporal_pending_activities: string | null;
  temporal_history: string | null;
}

export interface RunResponse {
  status: RunStatus;
  temporal: { workflow_id: string; run_id: string | null; execution_status: string };
  /** Each phase's layer in the graph: 0 for phases with no dependencies, else one past its deepest dependency. */
  layers: Record<string, number>;
  /** For each pending or ready phase held back by a failed one: the failed phases upstream of it. */
  blocked_by: Record<string, string[]>;
  links: RunLinks;
  /** Phases the graph lacks (the status left finished ones out for size and execution_context.json was not readable). */
  missing_phases: number;
}

export interface GraphResponse {
  /** The graph as SVG: `<g class="node phase" data-phase="<id>" data-state="<state>">` per phase shown. */
  svg: string;
  width: number;
  height: number;
  /** Layers folded into one node each run of consecutive ones. */
  folded: number[];
  /** Layers whose phases have all completed or been skipped. */
  foldable: number[];
  layer_count: number;
  /** Nodes drawn (phases, and one per group of folded layers). */
  node_count: number;
  layout_ms: number;
}

export const ACTIONS = ['retry', 'skip', 'mark-done', 'hand', 'pause', 'resume', 'abort'] as const;
export type ActionName = (typeof ACTIONS)[number];

export interface ActionRequest {
  action: ActionName;
  /** For retry and skip: the phase's id as the status keys it. */
  phase?: string;
  /** For retry: its dependants too. */
  downstream?: boolean;
  /** For mark-done: the output the phase is completed with (checked by the run like an agent's). */
  output?: { context?: Record<string, unknown>; artifacts?: Record<string, string> };
  /** For hand: to an external agent, or back to a worker. */
  to?: 'agent' | 'worker';
}

export interface ActionResponse {
  /** `done`: the run did it; `refused`: the run refused, `message` says why; `sent`: sent, not yet seen done. */
  outcome: 'done' | 'refused' | 'sent';
  message: string;
}

export interface LogFile {
  name: string;
  stream: 'stdout' | 'stderr';
  generation: number;
  attempt: number;
  compensate: boolean;
  size: number;
  modified: string;
}

export interface LogsResponse {
  dir: string;
  /** Newest first: the latest generation's latest attempt leads. */
  files: LogFile[];
  problem?: string;
}

export interface LogTail {
  name: string;
  size: number;
  /** The file's last bytes (all of it when small), from the start of a line. */
  text: string;
  truncated: boolean;
}

export interface PackageResponse {
  path: string;
  script_path: string | null;
  package: unknown;
  problem?: string;
}

export interface ErrorResponse {
  error: string;
}
