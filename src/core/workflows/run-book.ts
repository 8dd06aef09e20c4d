/**
 * The run's state machine: which phases are ready, what a retry or skip does, who runs a
 * phase, and what the run's state is. Pure (no Temporal APIs), so it is unit-tested directly
 * and replays deterministically inside the workflow.
 */
import { PHASE_STATES, type HandoffPackage, type PhaseContext, type PhaseState } from '../handoff/schema.js';
import { buildHandoffPackage, forTransport, runWorkdir, type PhaseProgress } from '../handoff/build.js';
import { downstreamOf, transitiveDependencies } from '../plan/graph.js';
import { phaseSettings } from '../plan/phase-settings.js';
import { phaseKey, type Continued, type OrchestratorConfig, type Phase, type Plan, type Resume } from '../plan/schema.js';
import type { RetryPhaseRequest } from '../api/definitions.js';
import type { AwaitingAgent, PhaseStatus, RunState, RunStatus } from '../api/status.js';

interface PhaseRecord extends PhaseProgress, PhaseStatus {
  /** With auto_advance off, a phase starts only once requested. */
  requested: boolean;
  /** Activities dispatched for the current generation (more than one when a worker was lost). */
  dispatches: number;
}

/** A phase's finished state, kept when its details moved to an archive file at a continue-as-new. */
export type ArchivedPhase = Continued['archived'][number];

export interface RunOverview {
  plan: string;
  state: RunState;
  paused: boolean;
  held_reason?: string;
  total: number;
  counts: Record<string, number>;
  /** Phase keys in each state that needs eyes, in plan order. */
  running: string[];
  awaiting_agent: string[];
  failed: string[];
  ready: string[];
}

/** What a run hands to the run it continues as: see `carry`. */
export interface Carried {
  continued: Continued;
  /** Full status and output of the phases archived now, for the archive file. */
  archive: Record<string, { status: PhaseStatus; output?: PhaseContext }>;
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

/** Notices carried into a continued run: the latest, enough to explain what happened lately. */
const CARRIED_NOTICES = 50;

export class RunBook {
  readonly phasesByKey = new Map<string, Phase>();
  private readonly records = new Map<string, PhaseRecord>();
  private completedCount = 0;
  /**
   * Indexes kept in step with every state change, so each workflow task costs what changed,
   * not the size of the plan: a 10,000-phase run does thousands of them.
   */
  private readonly planOrder = new Map<string, number>();
  private readonly dependants = new Map<string, string[]>();
  private readonly byState = new Map<PhaseState, Set<string>>(PHASE_STATES.map((s) => [s, new Set<string>()]));
  /** Every pending, requested phase whose dependencies are done is in here (and maybe others: checked when read). */
  private readonly candidates = new Set<string>();
  /** Archive files (relative to the workdir) of earlier segments of the run, oldest first. */
  readonly archives: string[] = [];
  /** Times this run has continued as new. */
  segment = 0;
  /** Phases finished in this segment: what `continue_as_new_after_phases` counts. */
  finishedThisSegment = 0;
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
    for (const [index, phase] of plan.phases.entries()) {
      const key = phaseKey(phase.id);
      this.phasesByKey.set(key, phase);
      this.planOrder.set(key, index);
      for (const dep of phase.depends_on) {
        const list = this.dependants.get(phaseKey(dep));
        if (list) list.push(key);
        else this.dependants.set(phaseKey(dep), [key]);
      }
      this.byState.get('pending')!.add(key);
      if (plan.auto_advance) this.candidates.add(key);
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

  /** Phases holding a slot: running on a worker, or awaiting an agent. */
  running(): number {
    return this.count('running') + this.count('awaiting_agent');
  }

  count(state: PhaseState): number {
    return this.byState.get(state)!.size;
  }

  /** Every state change goes through here, so the indexes never drift from the records. */
  private setState(key: string, rec: PhaseRecord, state: PhaseState): void {
    if (rec.state === state) return;
    this.byState.get(rec.state)!.delete(key);
    this.byState.get(state)!.add(key);
    rec.state = state;
    if (state === 'pending') this.candidates.add(key);
    if (state === 'completed' || state === 'skipped') {
      this.finishedThisSegment += 1;
      for (const dependant of this.dependants.get(key) ?? []) this.candidates.add(dependant);
    }
  }

  private inPlanOrder(keys: Iterable<string>): string[] {
    return [...keys].sort((a, b) => this.planOrder.get(a)! - this.planOrder.get(b)!);
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
    for (const key of this.inPlanOrder(this.candidates)) {
      const rec = this.records.get(key)!;
      if ((rec.state !== 'pending' && rec.state !== 'ready') || !rec.requested || !this.depsDone(key)) {
        // Comes back when it is put back to pending, requested, or a dependency finishes.
        this.candidates.delete(key);
        continue;
      }
      this.setState(key, rec, 'ready');
      ready.push(key);
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
    this.candidates.add(key);
    if (separateAgent !== undefined) rec.separate_agent = separateAgent;
  }

  /** Marks the phase running and returns the package for its new generation. */
  startPhase(key: string, now: Date, separateAgent = this.record(key).separate_agent): HandoffPackage {
    const rec = this.record(key);
    rec.generation += 1;
    rec.dispatches = 0;
    delete rec.archived;
    this.setState(key, rec, 'running');
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
    return forTransport(buildHandoffPackage({
      executionId: this.executionId,
      plan: this.plan,
      config: this.config,
      phase: this.phasesByKey.get(key)!,
      phasesByKey: this.phasesByKey,
      progress: this.records,
      stateCounts: this.stateCounts(),
      generation: Math.max(1, this.record(key).generation),
      now,
      separateAgent,
    }));
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

  /**
   * The state to continue as new with. Phases never touched are left out (the plan rebuilds
   * them); finished phases that no unfinished phase depends on are archived (their details go
   * to a file, a tuple stays); everything else travels whole.
   */
  carry(): Carried {
    const phases: Record<string, PhaseRecord> = {};
    const archived: ArchivedPhase[] = [];
    const archive: Carried['archive'] = {};
    for (const [key, rec] of this.records) {
      if (rec.archived) {
        archived.push([key, rec.state as ArchivedPhase[1], rec.attempts, rec.generation, rec.completedSeq ?? null]);
      } else if (this.archivable(key, rec)) {
        archive[key] = { status: this.phaseStatus(key), ...(rec.output ? { output: rec.output } : {}) };
        archived.push([key, rec.state as ArchivedPhase[1], rec.attempts, rec.generation, rec.completedSeq ?? null]);
      } else if (!this.untouched(key, rec)) {
        phases[key] = rec;
      }
    }
    return {
      continued: {
        segment: this.segment + 1,
        started_at: this.startedAt.toISOString(),
        paused: this.paused,
        notices: this.notices.slice(-CARRIED_NOTICES),
        completed_count: this.completedCount,
        compensations_due: [...this.compensationsDue],
        refresh_due: [...this.refreshDue],
        phases: phases as unknown as Continued['phases'],
        archived,
        archives: [...this.archives],
      },
      archive,
    };
  }

  /** Takes up where the run this one continues left off. */
  restore(continued: Continued): void {
    this.segment = continued.segment;
    this.paused = continued.paused;
    this.notices.push(...continued.notices);
    this.completedCount = continued.completed_count;
    this.compensationsDue.push(...continued.compensations_due);
    for (const key of continued.refresh_due) this.refreshDue.add(key);
    this.archives.push(...continued.archives);
    for (const [key, state, attempts, generation, seq] of continued.archived) {
      if (!this.records.has(key)) continue;
      const rec = this.record(key);
      this.setState(key, rec, state);
      rec.attempts = attempts;
      rec.generation = generation;
      if (seq !== null) rec.completedSeq = seq;
      rec.archived = true;
    }
    for (const [key, saved] of Object.entries(continued.phases)) {
      if (!this.records.has(key)) continue;
      const rec = this.record(key);
      const { state, ...rest } = saved as unknown as PhaseRecord;
      Object.assign(rec, rest);
      this.setState(key, rec, state);
      this.candidates.add(key);
      if (rec.override) this.override(key, { phase: rec.id, ...rec.override });
    }
    this.finishedThisSegment = 0;
  }

  /** Finished, with every phase that depends on it finished too, and nothing left to do for it. */
  private archivable(key: string, rec: PhaseRecord): boolean {
    if (rec.state !== 'completed' && rec.state !== 'skipped') return false;
    if (rec.override || rec.compensation?.state === 'running' || this.refreshDue.has(key) || this.compensationsDue.includes(key)) return false;
    return (this.dependants.get(key) ?? []).every((d) => {
      const state = this.records.get(d)!.state;
      return state === 'completed' || state === 'skipped';
    });
  }

  private untouched(key: string, rec: PhaseRecord): boolean {
    const phase = this.phasesByKey.get(key)!;
    return (
      rec.state === 'pending' &&
      rec.generation === 0 &&
      rec.attempts === 0 &&
      rec.requested === this.plan.auto_advance &&
      rec.separate_agent === (phase.use_separate_agent || this.config.use_separate_agents) &&
      !rec.override &&
      !rec.reused_from
    );
  }

  /** Dependencies whose outputs a phase's package needs but which were archived, so must be read back first. */
  archivedInputs(key: string): string[] {
    const phase = this.phasesByKey.get(key)!;
    const keys = phase.transitive_context ? transitiveDependencies(this.phasesByKey, key) : phase.depends_on.map(phaseKey);
    return keys.filter((k) => {
      const rec = this.records.get(k);
      return rec?.archived === true && rec.state === 'completed' && !rec.output;
    });
  }

  restoreOutput(key: string, output: PhaseContext): void {
    this.record(key).output = output;
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
    this.setState(key, rec, 'awaiting_agent');
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
    this.setState(key, rec, 'completed');
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
    this.setState(key, rec, 'failed');
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
      r.requested = true;
      this.setState(k, r, 'pending');
      this.candidates.add(k);
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
    this.setState(key, rec, 'skipped');
    delete rec.output;
    return undefined;
  }

  allDone(): boolean {
    return this.count('completed') + this.count('skipped') === this.records.size;
  }

  /** The phases in a state, in plan order. */
  keysIn(state: PhaseState): string[] {
    return this.inPlanOrder(this.byState.get(state)!);
  }

  failedKeys(): string[] {
    return this.keysIn('failed');
  }

  runState(): RunState {
    if (this.cancelled) return 'cancelled';
    if (this.allDone()) return 'completed';
    if (this.count('failed') > 0) {
      if (this.config.failed_phase_policy === 'fail') return 'failed';
      // Held once nothing else can move: an operator must retry or skip.
      if (this.running() === 0 && !this.anyStartable()) return 'held';
    }
    return this.paused ? 'paused' : 'running';
  }

  private anyStartable(): boolean {
    // Every startable phase is a candidate (see `candidates`), so the rest need not be looked at.
    return [...this.candidates].some((key) => {
      const rec = this.records.get(key)!;
      return (rec.state === 'pending' || rec.state === 'ready') && rec.requested && this.depsDone(key);
    });
  }

  heldReason(): string | undefined {
    const failed = this.failedKeys();
    if (failed.length === 0) return undefined;
    const parts = failed.map((k) => `phase ${k} (${this.record(k).name}) failed: ${this.record(k).error ?? 'unknown error'}`);
    return `${parts.join('; ')}. Send retryPhase {"phase": ${JSON.stringify(this.record(failed[0]!).id)}} to run it again, or skipPhase to move on.`;
  }

  /** How many phases are in each state, in the order of PHASE_STATES, leaving out the empty ones. */
  stateCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [state, keys] of this.byState) if (keys.size > 0) counts[state] = keys.size;
    return counts;
  }

  /**
   * What the UI's details and the search attributes show, built from the indexes: it is
   * published on every workflow task, so it must not cost the size of the plan.
   */
  overview(): RunOverview {
    const state = this.runState();
    const held = state === 'held' || state === 'failed' ? this.heldReason() : undefined;
    return {
      plan: this.plan.name,
      state,
      paused: this.paused,
      ...(held ? { held_reason: held } : {}),
      total: this.records.size,
      counts: this.stateCounts(),
      running: this.keysIn('running'),
      awaiting_agent: this.keysIn('awaiting_agent'),
      failed: this.keysIn('failed'),
      ready: this.keysIn('ready'),
    };
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
    if (this.segment > 0) status.continued = { segment: this.segment, archives: [...this.archives] };
    const held = state === 'held' || state === 'failed' ? this.heldReason() : undefined;
    if (held) status.held_reason = held;
    return status;
  }
}

function setOrClear<K extends 'content_hash' | 'handoff_path' | 'handoff_fallback'>(rec: PhaseStatus, key: K, value: string | null): void {
  if (value === null) delete rec[key];
  else rec[key] = value;
}
