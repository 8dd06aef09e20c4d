/**
 * The run's state machine: which phases are ready, what a retry or skip does, who runs a
 * phase, and what the run's state is. Pure (no Temporal APIs), so it is unit-tested directly
 * and replays deterministically inside the workflow.
 */
import type { HandoffPackage, PhaseContext } from '../handoff/schema.js';
import { buildHandoffPackage, runWorkdir, type PhaseProgress } from '../handoff/build.js';
import { downstreamOf } from '../plan/graph.js';
import { phaseSettings } from '../plan/phase-settings.js';
import { phaseKey, type OrchestratorConfig, type Phase, type Plan, type Resume } from '../plan/schema.js';
import type { RetryPhaseRequest } from './definitions.js';
import type { AwaitingAgent, PhaseStatus, RunState, RunStatus } from './status.js';

interface PhaseRecord extends PhaseProgress, PhaseStatus {
  /** With auto_advance off, a phase starts only once requested. */
  requested: boolean;
  /** Activities dispatched for the current generation (more than one when a worker was lost). */
  dispatches: number;
}

export interface PhaseCompletion {
  output: PhaseContext;
  attempts: number;
  executedBy: string;
  /** Execution times reported by whoever ran the phase. */
  startedAt: string;
  finishedAt: string;
  contentHash: string | null;
  handoffPath: string | null;
  handoffFallback: string | null;
}

export class RunBook {
  readonly phasesByKey = new Map<string, Phase>();
  private readonly records = new Map<string, PhaseRecord>();
  private completedCount = 0;
  paused = false;
  cancelled = false;
  readonly notices: string[] = [];
  /** Abandoned phases whose rollback has yet to run. */
  readonly compensationsDue: string[] = [];
  /** Phases to run on their dependencies' files as they are now, not as pinned (retryPhase refresh). */
  readonly refreshDue = new Set<string>();

  constructor(
    readonly executionId: string,
    readonly plan: Plan,
    readonly config: OrchestratorConfig,
    readonly startedAt: Date,
  ) {
    for (const phase of plan.phases) {
      const key = phaseKey(phase.id);
      this.phasesByKey.set(key, phase);
      this.records.set(key, {
        id: phase.id,
        name: phase.name,
        state: 'pending',
        attempts: 0,
        generation: 0,
        resource_class: phase.resource_class,
        task_queue: phaseSettings(phase, config).taskQueue,
        scheduled_at: null,
        started_at: null,
        finished_at: null,
        depends_on: phase.depends_on,
        separate_agent: phase.use_separate_agent || config.use_separate_agents,
        requested: plan.auto_advance,
        dispatches: 0,
      });
    }
  }

  record(key: string): PhaseRecord {
    const rec = this.records.get(key);
    if (!rec) throw new Error(`no phase ${key} in the plan`);
    return rec;
  }

  has(key: string): boolean {
    return this.records.has(key);
  }

  keys(): string[] {
    return [...this.records.keys()];
  }

  running(): number {
    let n = 0;
    for (const rec of this.records.values()) if (rec.state === 'running' || rec.state === 'awaiting_agent') n++;
    return n;
  }

  private depsDone(key: string): boolean {
    return this.phasesByKey.get(key)!.depends_on.every((dep) => {
      const state = this.records.get(phaseKey(dep))?.state;
      return state === 'completed' || state === 'skipped';
    });
  }

  /** Pending, requested phases whose dependencies are all completed or skipped, in plan order. */
  readyPhases(): string[] {
    const ready: string[] = [];
    for (const [key, rec] of this.records) {
      if ((rec.state !== 'pending' && rec.state !== 'ready') || !rec.requested) continue;
      if (this.depsDone(key)) {
        rec.state = 'ready';
        ready.push(key);
      }
    }
    return ready;
  }

  /** Why the phase cannot be requested with executePhase, or undefined. */
  requestProblem(key: string): string | undefined {
    if (!this.records.has(key)) return `executePhase: the plan has no phase ${key}; phases are ${this.keys().join(', ')}`;
    const rec = this.record(key);
    if (rec.state !== 'pending' && rec.state !== 'ready') {
      return `executePhase: phase ${key} is ${rec.state}; use retryPhase to run a finished phase again`;
    }
    return undefined;
  }

  /** The guide's execute_phase: ask for a phase, and say who runs it. */
  request(key: string, separateAgent: boolean | undefined): void {
    const rec = this.record(key);
    rec.requested = true;
    if (separateAgent !== undefined) rec.separate_agent = separateAgent;
  }

  /** Marks the phase running and returns the package for its new generation. */
  startPhase(key: string, now: Date, separateAgent = this.record(key).separate_agent): HandoffPackage {
    const rec = this.record(key);
    rec.generation += 1;
    rec.dispatches = 0;
    rec.state = 'running';
    rec.scheduled_at = now.toISOString();
    rec.started_at = rec.scheduled_at;
    rec.finished_at = null;
    delete rec.error;
    delete rec.awaiting;
    delete rec.progress;
    delete rec.waiting_for_workers;
    return this.packageFor(key, now, separateAgent);
  }

  /** The package of the phase's current generation, as the phase (or its rollback) would get it. */
  packageFor(key: string, now: Date, separateAgent = false): HandoffPackage {
    return buildHandoffPackage({
      executionId: this.executionId,
      plan: this.plan,
      config: this.config,
      phase: this.phasesByKey.get(key)!,
      phasesByKey: this.phasesByKey,
      progress: this.records,
      generation: Math.max(1, this.record(key).generation),
      now,
      separateAgent,
    });
  }

  /** A phase whose output an earlier run produced (checked by hash by the client): completed without running. */
  reuse(resume: Resume): void {
    for (const [key, earlier] of Object.entries(resume.phases)) {
      if (!this.records.has(key)) continue;
      const rec = this.record(key);
      rec.reused_from = resume.from_run;
      this.completePhase(key, {
        output: { context: earlier.context, artifacts: earlier.artifacts },
        attempts: 0,
        executedBy: earlier.executed_by ?? `run ${resume.from_run}`,
        startedAt: earlier.started_at ?? this.startedAt.toISOString(),
        finishedAt: earlier.finished_at ?? this.startedAt.toISOString(),
        contentHash: earlier.content_hash ?? null,
        handoffPath: null,
        handoffFallback: null,
      });
    }
  }

  /** Applies a retryPhase's overrides to the phase from now on, or says why it cannot. */
  override(key: string, request: RetryPhaseRequest): string | undefined {
    const changes: Partial<Phase> = {};
    if (request.resource_class !== undefined) {
      if (!(request.resource_class in this.config.resource_classes)) {
        return `retryPhase: resource class "${request.resource_class}" is not declared; use one of: ${Object.keys(this.config.resource_classes).join(', ')}`;
      }
      changes.resource_class = request.resource_class;
    }
    if (request.timeout_s !== undefined) changes.timeout_s = request.timeout_s;
    if (request.retries !== undefined) changes.retries = request.retries;
    const phase = this.phasesByKey.get(key)!;
    const next: Phase = { ...phase, ...changes, config: { ...phase.config, ...(request.config ?? {}) } };
    this.phasesByKey.set(key, next);
    const rec = this.record(key);
    rec.resource_class = next.resource_class;
    rec.task_queue = phaseSettings(next, this.config).taskQueue;
    const overridden = { ...changes, ...(request.config ? { config: request.config } : {}) };
    if (Object.keys(overridden).length > 0) rec.override = { ...(rec.override ?? {}), ...overridden };
    return undefined;
  }

  /** Dependencies' outputs, for a refresh: their artifacts are re-read from disk. */
  dependencyOutputs(key: string): Record<string, PhaseContext> {
    const outputs: Record<string, PhaseContext> = {};
    for (const dep of this.phasesByKey.get(key)!.depends_on.map(phaseKey)) {
      const output = this.record(dep).output;
      if (output) outputs[dep] = output;
    }
    return outputs;
  }

  replaceOutput(key: string, output: PhaseContext): void {
    const rec = this.record(key);
    rec.output = output;
    rec.context = output;
  }

  /** The id of the phase's activity now in flight: unique per generation and dispatch. */
  activityId(key: string): string {
    const rec = this.record(key);
    return `phase-${key}-g${rec.generation}-d${rec.dispatches}`;
  }

  /** Records, from a queue watch, which running phases still wait for a worker, and why. */
  noteQueues(watch: { started: string[]; scheduled: string[]; workers: Record<string, number> }): void {
    for (const key of this.keysIn('running')) {
      const rec = this.record(key);
      const id = this.activityId(key);
      if (!watch.scheduled.includes(id)) {
        delete rec.waiting_for_workers;
        continue;
      }
      const workers = watch.workers[rec.task_queue] ?? 0;
      rec.waiting_for_workers =
        workers === 0
          ? `no worker polls ${rec.task_queue}: start \`baton worker --class ${rec.resource_class}\``
          : `waiting in ${rec.task_queue}'s backlog: its ${workers} worker${workers === 1 ? ' is' : 's are'} busy`;
    }
  }

  compensationStarted(key: string, now: Date): void {
    this.record(key).compensation = { state: 'running', at: now.toISOString() };
  }

  compensationEnded(key: string, error: string | undefined, now: Date): void {
    this.record(key).compensation = { state: error ? 'failed' : 'completed', at: now.toISOString(), ...(error ? { error } : {}) };
  }

  awaitAgent(key: string, awaiting: AwaitingAgent): void {
    const rec = this.record(key);
    rec.state = 'awaiting_agent';
    rec.awaiting = awaiting;
    rec.content_hash = awaiting.package_hash;
    rec.handoff_path = awaiting.handoff_path;
  }

  progress(key: string, message: string, percent: number | undefined, now: Date): string | undefined {
    if (!this.records.has(key)) return `agentProgress: the plan has no phase ${key}`;
    const rec = this.record(key);
    if (rec.state !== 'awaiting_agent') return `agentProgress: phase ${key} is ${rec.state}, not awaiting an agent`;
    rec.progress = { message, at: now.toISOString(), ...(percent === undefined ? {} : { percent }) };
    return undefined;
  }

  /** Records why a phase meant for an agent went to a worker; kept until the phase is retried. */
  noteAgentFallback(key: string, reason: string): void {
    this.record(key).agent_fallback = reason;
  }

  completePhase(key: string, result: PhaseCompletion): void {
    const rec = this.record(key);
    rec.state = 'completed';
    delete rec.waiting_for_workers;
    rec.attempts += result.attempts;
    rec.output = result.output;
    rec.context = result.output;
    rec.executed_by = result.executedBy;
    rec.started_at = result.startedAt;
    rec.finished_at = result.finishedAt;
    setOrClear(rec, 'content_hash', result.contentHash);
    setOrClear(rec, 'handoff_path', result.handoffPath);
    setOrClear(rec, 'handoff_fallback', result.handoffFallback);
    if (rec.provenance?.via !== 'agent' || rec.provenance.package_hash !== result.contentHash) {
      rec.provenance = {
        via: 'worker',
        executed_by: result.executedBy,
        package_hash: result.contentHash,
        result_hash: null,
        mode: 'inline',
        started_at: result.startedAt,
        finished_at: result.finishedAt,
      };
    }
    rec.completedSeq = this.completedCount++;
  }

  failPhase(key: string, error: string, attempts: number, executedBy: string | undefined, now: Date): void {
    const rec = this.record(key);
    rec.state = 'failed';
    delete rec.waiting_for_workers;
    rec.attempts += attempts;
    rec.error = error;
    delete rec.awaiting;
    if (executedBy) rec.executed_by = executedBy;
    rec.finished_at = now.toISOString();
  }

  /** A phase in flight when the run was aborted: its work was cancelled, so it did not complete. */
  abandon(key: string, now: Date): void {
    const rec = this.record(key);
    if (rec.state !== 'running' && rec.state !== 'awaiting_agent') return;
    this.failPhase(key, 'cancelled: the run was aborted while this phase was in flight', 0, undefined, now);
  }

  /** On abort: every phase left failed (in flight, or failed before) that has a rollback. */
  dueOnAbort(): string[] {
    return this.failedKeys().filter((k) => this.phasesByKey.get(k)!.compensate && !this.record(k).compensation);
  }

  /**
   * Puts a failed or completed phase back to pending, and its downstream phases too when asked.
   * Returns a notice instead when the request cannot be honoured.
   */
  retry(key: string, downstream: boolean): string | undefined {
    if (!this.records.has(key)) return `retryPhase: the plan has no phase ${key}; phases are ${this.keys().join(', ')}`;
    const rec = this.record(key);
    if (rec.state !== 'failed' && rec.state !== 'completed' && rec.state !== 'skipped') {
      return `retryPhase: phase ${key} is ${rec.state}; only a failed, completed or skipped phase can be retried`;
    }
    const keys = downstream ? [key, ...downstreamOf(this.plan.phases, key)] : [key];
    for (const k of keys) {
      const r = this.record(k);
      if (r.state === 'running' || r.state === 'awaiting_agent') continue;
      r.state = 'pending';
      r.requested = true;
      delete r.error;
      delete r.agent_fallback;
    }
    return undefined;
  }

  skip(key: string): string | undefined {
    if (!this.records.has(key)) return `skipPhase: the plan has no phase ${key}; phases are ${this.keys().join(', ')}`;
    const rec = this.record(key);
    if (rec.state === 'completed' || rec.state === 'skipped' || rec.state === 'running' || rec.state === 'awaiting_agent') {
      return `skipPhase: phase ${key} is ${rec.state}; only a pending, ready or failed phase can be skipped`;
    }
    // Skipping a phase that failed part way abandons its partial work: roll it back.
    if (rec.state === 'failed' && this.phasesByKey.get(key)!.compensate) this.compensationsDue.push(key);
    rec.state = 'skipped';
    delete rec.output;
    return undefined;
  }

  allDone(): boolean {
    for (const rec of this.records.values()) if (rec.state !== 'completed' && rec.state !== 'skipped') return false;
    return true;
  }

  keysIn(state: PhaseStatus['state']): string[] {
    return [...this.records].filter(([, r]) => r.state === state).map(([k]) => k);
  }

  failedKeys(): string[] {
    return this.keysIn('failed');
  }

  runState(): RunState {
    if (this.cancelled) return 'cancelled';
    if (this.allDone()) return 'completed';
    if (this.failedKeys().length > 0) {
      if (this.config.failed_phase_policy === 'fail') return 'failed';
      // Held once nothing else can move: an operator must retry or skip.
      if (this.running() === 0 && !this.anyStartable()) return 'held';
    }
    return this.paused ? 'paused' : 'running';
  }

  private anyStartable(): boolean {
    return [...this.records].some(([key, rec]) => (rec.state === 'pending' || rec.state === 'ready') && rec.requested && this.depsDone(key));
  }

  heldReason(): string | undefined {
    const failed = this.failedKeys();
    if (failed.length === 0) return undefined;
    const parts = failed.map((k) => `phase ${k} (${this.record(k).name}) failed: ${this.record(k).error ?? 'unknown error'}`);
    return `${parts.join('; ')}. Send retryPhase {"phase": ${JSON.stringify(this.record(failed[0]!).id)}} to run it again, or skipPhase to move on.`;
  }

  phaseStatus(key: string): PhaseStatus {
    const { output: _output, completedSeq: _seq, requested: _requested, dispatches: _dispatches, ...visible } = this.record(key);
    return visible;
  }

  status(finishedAt: Date | null): RunStatus {
    const phases: Record<string, PhaseStatus> = {};
    for (const key of this.records.keys()) phases[key] = this.phaseStatus(key);
    const state = this.runState();
    const status: RunStatus = {
      execution_id: this.executionId,
      plan: this.plan.name,
      workdir: runWorkdir(this.plan),
      handoffs_enabled: this.config.agent_handoff_enabled,
      state,
      paused: this.paused,
      started_at: this.startedAt.toISOString(),
      finished_at: finishedAt ? finishedAt.toISOString() : null,
      notices: [...this.notices],
      phases,
    };
    const held = state === 'held' || state === 'failed' ? this.heldReason() : undefined;
    if (held) status.held_reason = held;
    return status;
  }
}

function setOrClear<K extends 'content_hash' | 'handoff_path' | 'handoff_fallback'>(rec: PhaseStatus, key: K, value: string | null): void {
  if (value === null) delete rec[key];
  else rec[key] = value;
}
