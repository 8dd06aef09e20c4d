/**
 * The Orchestrator API: what the CLI uses, and what library users call from TypeScript.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TerminatedFailure, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { handoffFileName } from '../runner/handoff-files.js';
import { handoffsDirOf, resolveWorkdir } from '../runner/workdir.js';
import { configuredStore, pushSharedArtifacts } from '../runner/store/sync.js';
import { asRunStatus } from './read-status.js';
import type { AgentResult } from '../core/handoff/result.js';
import { HandoffPackageSchema, type HandoffPackage } from '../core/handoff/schema.js';
import { compactPlan } from '../core/plan/compact.js';
import { planWorkdir } from '../core/handoff/build.js';
import type { OrchestratorConfig, OrchestratorConfigInput, PhaseId, Plan, PlanInput } from '../core/plan/schema.js';
import type { Resume } from '../core/api/run-input.js';
import { ORCHESTRATOR_TASK_QUEUE, WORKFLOW_TYPE } from '../core/plan/schema.js';
import { checkPlan } from './load-plan.js';
import { PlanError } from '../core/plan/problems.js';
import {
  agentProgressSignal,
  completePhaseUpdate,
  executePhaseUpdate,
  handPhaseUpdate,
  markPhaseDoneUpdate,
  type CompletePhaseResponse,
  type OperationResponse,
  pauseSignal,
  pauseUpdate,
  phasesQuery,
  resumeSignal,
  resumeUpdate,
  retryPhaseSignal,
  retryPhaseUpdate,
  skipPhaseSignal,
  skipPhaseUpdate,
  statusQuery,
} from '../core/api/definitions.js';
import type { phasedRun } from '../core/workflows/phased-run.js';
import { inputSizeProblem } from '../core/workflows/run-input.js';
import type { PhasesPage, PhasesRequest, PhaseStatus, RunStatus } from '../core/api/status.js';
import { parseMessage, type HandPhaseRequest, type RetryPhaseRequest } from '../core/api/messages.js';
import type { PhaseOutputFile } from '../core/handoff/schema.js';
import { explainTemporalError } from './temporal-errors.js';

export interface StartOptions {
  /** The workflow id, which is the run's execution_id; generated from the plan name when absent. */
  runId?: string;
  /** Completed phases of an earlier run to reuse (see planResume). */
  resume?: Resume;
}

export class Orchestrator {
  constructor(readonly client: Client) {}

  /**
   * Checks the plan up front (output schemas compiled too), its bounds and the size of the input it makes included, so a bad
   * or too large one is refused, with the limit and what to do, before any workflow exists.
   */
  async start(plan: PlanInput | Plan, config: OrchestratorConfigInput | OrchestratorConfig = {}, opts: StartOptions = {}): Promise<RunHandle> {
    const checked = await checkPlan(plan, config);
    // From the name, but only its letters, digits, `.`, `_` and `-`: a run id goes into URLs (the Web
    // UI's link to the run) and file names, where `/`, `#` or `?` would break them.
    const runId = opts.runId ?? `${checked.plan.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200)}-${randomUUID().slice(0, 8)}`;
    // Defaults left out: the workflow puts them back, and large plans must fit Temporal's input limit.
    const input = { plan: compactPlan(checked.plan), config: checked.config, ...(opts.resume ? { resume: opts.resume } : {}) };
    const tooLarge = inputSizeProblem(input);
    if (tooLarge) throw new PlanError(`the run of plan "${checked.plan.name}"`, [tooLarge]);
    await shipSharedArtifacts(checked.plan, runId, checked.config.store);
    try {
      const handle = await this.client.workflow.start<typeof phasedRun>(WORKFLOW_TYPE, {
        taskQueue: ORCHESTRATOR_TASK_QUEUE,
        workflowId: runId,
        args: [input],
        staticSummary: `Baton run of plan "${checked.plan.name}" (${checked.plan.phases.length} phases)`,
      });
      return new RunHandle(handle);
    } catch (err) {
      throw explainTemporalError(err, 'start', runId);
    }
  }

  run(runId: string): RunHandle {
    return new RunHandle(this.client.workflow.getHandle<typeof phasedRun>(runId));
  }
}

/**
 * With a store, the files the plan ships (shared_artifacts, in the workdir on this machine) are
 * stored for the run before it starts, so workers with nothing but the store have them.
 */
async function shipSharedArtifacts(plan: Plan, runId: string, runStore: string | undefined): Promise<void> {
  const store = configuredStore(runStore);
  if (!store || Object.keys(plan.shared_artifacts).length === 0) return;
  const workdir = resolveWorkdir(planWorkdir(plan), plan.base_dir ?? null);
  await pushSharedArtifacts(store, workdir, runId, plan.shared_artifacts).catch((err: unknown) => {
    throw new Error(`the plan's shared_artifacts could not be stored in ${store.description}, so the run was not started: ${(err as Error).message}`);
  });
}

export class RunHandle {
  constructor(readonly workflow: WorkflowHandle<typeof phasedRun>) {}

  get runId(): string {
    return this.workflow.workflowId;
  }

  /**
   * The run's status: from the live workflow while it runs, from its result once closed
   * (which needs no worker, unlike a query on a closed workflow).
   */
  async status(): Promise<RunStatus> {
    const description = await this.workflow.describe();
    if (description.status.name === 'RUNNING') return this.workflow.query(statusQuery).catch((err: unknown) => Promise.reject(explainTemporalError(err, 'query', this.runId)));
    if (description.status.name === 'COMPLETED' || description.status.name === 'FAILED') return this.finalStatus();
    // Cancelled (or terminated): the workflow keeps its last status in the memo, less phase outputs.
    const memo = asRunStatus(description.memo?.status);
    if (memo) return memo;
    if (description.status.name === 'TERMINATED') {
      // Terminate ends a run without running any of its code: it could record nothing, and its search
      // attributes still say what they said (queries must ask for ExecutionStatus = 'Running').
      const last = (await this.workflow.fetchHistory()).events?.at(-1)?.workflowExecutionTerminatedEventAttributes;
      const by = last?.identity ? ` by ${last.identity}` : '';
      throw new Error(
        `run ${this.runId} was terminated${by}${last?.reason ? ` (${last.reason})` : ''} at ${description.closeTime?.toISOString() ?? '?'}: phases in flight stop at their next heartbeat, nothing was rolled back, and it recorded no final status; \`baton history ${this.runId}\` shows what it did`,
      );
    }
    throw new Error(`run ${this.runId} ended ${description.status.name.toLowerCase()} without a final status (it was stopped before it could record one)`);
  }

  /**
   * Waits for the run to end and returns its final status, whether it completed or failed. A Reset
   * ends (terminates) the Temporal run it replaces and goes on in a new one: the wait follows it.
   */
  async finalStatus(): Promise<RunStatus> {
    let workflow: WorkflowHandle<typeof phasedRun> = this.workflow;
    for (let runs = 0; ; runs++) {
      try {
        return await workflow.result();
      } catch (err) {
        const status = statusFromFailure(err);
        if (status) return status;
        if (!(err instanceof WorkflowFailedError && err.cause instanceof TerminatedFailure) || runs >= 100) throw err;
        const latest = this.workflow.client.getHandle<typeof phasedRun>(this.runId);
        if ((await latest.describe()).status.name === 'TERMINATED') throw err;
        workflow = latest;
      }
    }
  }

  /**
   * A page of the run's phases, each whole (the `phases` query): what `status` leaves out of a
   * large plan. `{ state: 'failed' }` for the failed ones; pass the page's `next` as `after`.
   */
  async phases(request: PhasesRequest = {}): Promise<PhasesPage> {
    return this.workflow.query(phasesQuery, request).catch((err: unknown) => Promise.reject(explainTemporalError(err, 'query', this.runId)));
  }

  /** Every phase in the states asked for (all, when none), page by page, in plan order. */
  async *allPhases(filter: Pick<PhasesRequest, 'state'> = {}): AsyncGenerator<PhaseStatus> {
    let after: PhasesRequest['after'];
    for (;;) {
      const page = await this.phases({ ...filter, limit: 1000, ...(after === undefined ? {} : { after }) });
      yield* page.phases;
      if (page.next === null) return;
      after = page.next;
    }
  }

  /*
   * The operations go as updates: a request the run cannot honour is refused at once, with the
   * reason (thrown), and an accepted one answers what the run did. A run of workflow code from
   * before the updates gets the signal instead (its answer says so).
   */

  pause(): Promise<OperationResponse> {
    return this.operate(() => this.workflow.executeUpdate(pauseUpdate, { args: [] }), () => this.workflow.signal(pauseSignal));
  }

  resume(): Promise<OperationResponse> {
    return this.operate(() => this.workflow.executeUpdate(resumeUpdate, { args: [] }), () => this.workflow.signal(resumeSignal));
  }

  /** Runs a failed, completed or skipped phase again: `retry(3)`, `retry(3, true)` (and its dependants), or `retry(3, {resource_class: 'gpu'})`. */
  retry(phase: PhaseId, options: boolean | Omit<RetryPhaseRequest, 'phase'> = false): Promise<OperationResponse> {
    const request: RetryPhaseRequest = typeof options === 'boolean' ? { phase, downstream: options } : { phase, ...options };
    return this.operate(() => this.workflow.executeUpdate(retryPhaseUpdate, { args: [request] }), () => this.workflow.signal(retryPhaseSignal, request));
  }

  skip(phase: PhaseId): Promise<OperationResponse> {
    return this.operate(() => this.workflow.executeUpdate(skipPhaseUpdate, { args: [{ phase }] }), () => this.workflow.signal(skipPhaseSignal, { phase }));
  }

  /**
   * Completes a failed phase, or one awaiting an agent, with `output` (BATON_OUTPUT's form: context,
   * and artifacts as paths relative to the workdir), checked against the phase's output_schema; its
   * dependants then run. A refused output throws with every problem; nothing is recorded.
   */
  markDone(phase: PhaseId, output: Partial<PhaseOutputFile>, opts: { by?: string; reason?: string } = {}): Promise<OperationResponse> {
    const request = { phase, output: { context: output.context ?? {}, artifacts: output.artifacts ?? {} }, ...opts };
    return updateOrExplain(this.workflow, () => this.workflow.executeUpdate(markPhaseDoneUpdate, { args: [request] }));
  }

  /** Hands a pending or failed phase to an external agent, or a pending, failed or agent-awaiting one to a worker. */
  hand(phase: PhaseId, to: HandPhaseRequest['to']): Promise<OperationResponse> {
    return updateOrExplain(this.workflow, () => this.workflow.executeUpdate(handPhaseUpdate, { args: [{ phase, to }] }));
  }

  private async operate(update: () => Promise<OperationResponse>, signal: () => Promise<void>): Promise<OperationResponse> {
    try {
      return await updateOrExplain(this.workflow, update);
    } catch (err) {
      if (!/no registered handler for update/i.test((err as Error).message)) throw err;
      await this.signal(signal);
      return { message: "sent as a signal: this run's workflow code predates the operation updates, so a refusal shows only in its status's notices", run_state: 'unknown' };
    }
  }

  /** A signal, with what Temporal's refusal means (its limit on signals per execution, say). */
  private async signal(send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (err) {
      throw explainTemporalError(err, 'signal', this.runId);
    }
  }

  async abort(): Promise<void> {
    await this.workflow.cancel();
  }

  /**
   * The guide's `execute_phase(id, use_separate_agent)`: request one phase. Resolves with its status
   * once it has completed or failed, or, for a separate agent, once its package is ready.
   */
  async executePhase(phase: PhaseId, opts: { useSeparateAgent?: boolean } = {}): Promise<PhaseStatus> {
    const request = { phase, ...(opts.useSeparateAgent === undefined ? {} : { use_separate_agent: opts.useSeparateAgent }) };
    return updateOrExplain(this.workflow, () => this.workflow.executeUpdate(executePhaseUpdate, { args: [request] }));
  }

  /** The guide's `load_handoff(phase)`: the phase's latest package, from the run's workdir. */
  async loadHandoff(phase: PhaseId): Promise<HandoffPackage> {
    const status = await this.status();
    const file = path.join(handoffsDirOf(path.resolve(status.workdir), status.execution_id), handoffFileName(String(phase)));
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      throw new Error(`phase ${String(phase)} has no package at ${file} yet: its dependencies may not be done, or agent_handoff_enabled is off`);
    }
    const pkg = HandoffPackageSchema.parse(JSON.parse(text));
    // <workdir>/handoffs (runs from before runs had directories of their own) is shared by a plan's runs.
    if (pkg.execution_id !== status.execution_id) throw new Error(`phase ${String(phase)} of run ${status.execution_id} has no package yet (${file} is run ${pkg.execution_id}'s)`);
    return pkg;
  }

  /** Reports an agent's result; a refused one throws with the reason, and the phase keeps waiting. */
  async complete(result: AgentResult): Promise<CompletePhaseResponse> {
    return updateOrExplain(this.workflow, () => this.workflow.executeUpdate(completePhaseUpdate, { args: [result] }));
  }

  /** Checked here first (a percent of -500, a message of a megabyte): a signal cannot answer, so a bad one would only be a notice. */
  async reportProgress(phase: PhaseId, message: string, percent?: number): Promise<void> {
    const report = parseMessage('agentProgress', { phase, message, ...(percent === undefined ? {} : { percent }) });
    if (!report.ok) throw new Error(report.error);
    return this.signal(() => this.workflow.signal(agentProgressSignal, report.value));
  }
}

/** An update the workflow refused carries its reason in the cause; surface that, not the wrapper. */
export async function updateOrExplain<T>(workflow: WorkflowHandle, call: () => Promise<T>): Promise<T> {
  try {
    return await retryAbortedUpdate(call);
  } catch (err) {
    // A run that has closed answers "not found" or a bare failure; say what happened instead.
    const state = await workflow.describe().then(
      (d) => d.status.name,
      (e: unknown) => (e instanceof WorkflowNotFoundError ? 'MISSING' : undefined),
    );
    if (state === 'MISSING') throw new Error(`there is no run ${workflow.workflowId} (check the run id, and TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE)`);
    if (state && state !== 'RUNNING') throw new Error(`run ${workflow.workflowId} has ended (${state.toLowerCase()}); it accepts nothing more`);
    if (err instanceof WorkflowUpdateFailedError && err.cause) throw new Error(err.cause.message);
    throw explainTemporalError(err, 'update', workflow.workflowId);
  }
}

/**
 * Temporal fails an update whose workflow task failed (`Unable to perform workflow execution update due
 * to unexpected workflow task failure`): nothing of it was recorded, so it is sent again, twice at most.
 */
async function retryAbortedUpdate<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= 3 || !/unexpected workflow task failure/i.test(causeText(err))) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

function causeText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 5; e = (e as Error & { cause?: unknown }).cause) parts.push(e.message);
  return parts.join(': ');
}

/** A run that failed carries its final status in the failure's details. */
function statusFromFailure(err: unknown): RunStatus | undefined {
  if (!(err instanceof WorkflowFailedError)) return undefined;
  const cause = err.cause as { details?: unknown[] } | undefined;
  return asRunStatus(cause?.details?.[0]);
}
