/**
 * Where `baton ui` reads runs from and sends operators' requests to: Temporal, through the same client
 * the CLI uses. The server sees only this interface, so its tests run without a Temporal server.
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { Orchestrator, type RunHandle } from '../client/orchestrator.js';
import type { RunStatus } from '../core/api/status.js';
import { BatonAwaitingAgent, BatonPhasesHeld, BatonPhasesRunning, BatonPlan, BatonState } from '../core/api/search-attributes.js';
import { WORKFLOW_TYPE, type PhaseId } from '../core/plan/schema.js';

/** A run as Temporal's visibility store lists it. */
export interface RunListing {
  workflowId: string;
  runId: string;
  /** Temporal's ExecutionStatus, lower case: `running`, `completed`, `terminated`, … */
  executionStatus: string;
  startTime: Date | null;
  closeTime: Date | null;
  /** Baton's search attributes, as the run last set them (a terminated run keeps them). */
  plan: string | null;
  batonState: string | null;
  held: string[];
  awaitingAgent: string[];
  running: string[];
}

export interface RunListings {
  open: RunListing[];
  closed: RunListing[];
  /** More closed runs exist than were read. */
  more: boolean;
  queries: string[];
}

export interface RunAccess {
  /** Temporal's view: the latest run under the workflow id. Throws NoSuchRun. */
  describe(): Promise<{ runId: string; executionStatus: string }>;
  /** The `status` query of an open run; the final status (result or memo) of a closed one. Throws NoSuchRun. */
  status(): Promise<RunStatus>;
  retry(phase: PhaseId, downstream: boolean): Promise<unknown>;
  skip(phase: PhaseId): Promise<unknown>;
  markDone(phase: PhaseId, output: { context?: Record<string, unknown>; artifacts?: Record<string, string> }): Promise<unknown>;
  hand(phase: PhaseId, to: 'agent' | 'worker'): Promise<unknown>;
  pause(): Promise<unknown>;
  resume(): Promise<unknown>;
  abort(): Promise<void>;
}

export interface RunsSource {
  listRuns(limits: { open: number; closed: number }): Promise<RunListings>;
  run(workflowId: string): RunAccess;
}

export class NoSuchRun extends Error {
  override name = 'NoSuchRun';
}

/** How long a status query may take: a run without an orchestrator worker never answers. */
const QUERY_DEADLINE_MS = 10_000;

export const OPEN_RUNS_QUERY = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
export const CLOSED_RUNS_QUERY = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus != 'Running'`;

function listing(info: WorkflowExecutionInfo): RunListing {
  const attrs = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    executionStatus: info.status.name.toLowerCase(),
    startTime: info.startTime ?? null,
    closeTime: info.closeTime ?? null,
    plan: attrs.get(BatonPlan) ?? null,
    batonState: attrs.get(BatonState) ?? null,
    held: attrs.get(BatonPhasesHeld) ?? [],
    awaitingAgent: attrs.get(BatonAwaitingAgent) ?? [],
    running: attrs.get(BatonPhasesRunning) ?? [],
  };
}

export class TemporalRunsSource implements RunsSource {
  constructor(readonly client: Client) {}

  async listRuns(limits: { open: number; closed: number }): Promise<RunListings> {
    const read = async (query: string, limit: number): Promise<{ runs: RunListing[]; more: boolean }> => {
      const runs: RunListing[] = [];
      for await (const info of this.client.workflow.list({ query, pageSize: Math.min(limit + 1, 1000) })) {
        if (runs.length === limit) return { runs, more: true };
        runs.push(listing(info));
      }
      return { runs, more: false };
    };
    const [open, closed] = await Promise.all([read(OPEN_RUNS_QUERY, limits.open), read(CLOSED_RUNS_QUERY, limits.closed)]);
    return { open: open.runs, closed: closed.runs, more: closed.more || open.more, queries: [OPEN_RUNS_QUERY, CLOSED_RUNS_QUERY] };
  }

  run(workflowId: string): RunAccess {
    const handle: RunHandle = new Orchestrator(this.client).run(workflowId);
    const connection = this.client.connection;
    const notFound = (err: unknown): never => {
      if (err instanceof WorkflowNotFoundError) throw new NoSuchRun(`there is no run ${workflowId} in namespace ${this.client.options.namespace}`);
      throw err;
    };
    return {
      describe: async () => {
        const d = await handle.workflow.describe().catch(notFound);
        return { runId: d.runId, executionStatus: d.status.name.toLowerCase() };
      },
      status: async () => {
        try {
          return await connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.status());
        } catch (err) {
          notFound(err);
          const message = (err as Error).message;
          if (/deadline/i.test(message)) {
            throw new Error(`run ${workflowId} did not answer its status query within ${QUERY_DEADLINE_MS / 1000}s: is an orchestrator worker running (baton worker --orchestrator)?`);
          }
          throw err;
        }
      },
      retry: (phase, downstream) => handle.retry(phase, downstream),
      skip: (phase) => handle.skip(phase),
      markDone: (phase, output) => handle.markDone(phase, output, { by: 'baton ui' }),
      hand: (phase, to) => handle.hand(phase, to),
      pause: () => handle.pause(),
      resume: () => handle.resume(),
      abort: () => handle.abort(),
    };
  }
}
