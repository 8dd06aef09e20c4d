/**
 * The run's state machine: every phase's entry, which phases are ready, what an operator's
 * retry, skip or request does, and the run's state. Pure (no Temporal APIs), so it is
 * unit-tested directly and replays deterministically inside the workflow. What the run shows
 * (status, overview) is in projections.ts; what it carries into a continued run, in carry.ts.
 */
import { PHASE_STATES, type HandoffPackage, type PhaseContext, type PhaseState } from '../handoff/schema.js';
import { buildHandoffPackage, forTransport } from '../handoff/build.js';
import { downstreamOf, transitiveDependencies } from '../plan/graph.js';
import { phaseSettings } from '../plan/phase-settings.js';
import { phaseKey, type OrchestratorConfig, type Phase, type Plan } from '../plan/schema.js';
import type { PhaseRecord, Resume } from '../api/run-input.js';
import type { RetryPhaseRequest } from '../api/messages.js';
import type { Reset, RunState } from '../api/status.js';
import type { PhaseWatchNote } from '../../activities/types.js';
import { PhaseEntry, type PhaseBookkeeping } from './phase-entry.js';

export class RunBook implements PhaseBookkeeping {
  private readonly entries = new Map<string, PhaseEntry>();
  /** The phases as defined, with retries' overrides: what packages are built from. */
  readonly phasesByKey = new Map<string, Phase>();
  /** Every phase's record by key: what packages are built from (state, attempts, outputs). */
  readonly records = new Map<string, PhaseRecord>();
  /** Completions so far, across every segment of a continued run: decides `from_phase`. */
  completedCount = 0;
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
  /** The run marked its workdir before its first phase, so packages say so (behaviour.opensWorkdir). */
  workdirMarked = false;
  readonly notices: string[] = [];
  /** Notices let go, oldest first, to keep the latest LIMITS.notices (see Run.notice). */
  noticesDropped = 0;
  /** Abandoned phases whose rollback has yet to run. */
  readonly compensationsDue: string[] = [];
  /** Phases to run on their dependencies' files as they are now, not as pinned (retryPhase refresh). */
  readonly refreshDue = new Set<string>();
  /** The Temporal run building packages now (it goes into each package, see BUILT_IN_RUN_ENV). */
  temporalRunId: string | undefined;
  /** Resets of the run (Temporal's Reset), oldest first. */
  readonly resets: Reset[] = [];
  /** Per phase, a generation the runs a reset replaced already used: the phase's next one is higher. */
  readonly generationFloors = new Map<string, number>();

  constructor(
    readonly executionId: string,
    readonly plan: Plan,
    readonly config: OrchestratorConfig,
    readonly startedAt: Date,
  ) {
    for (const [index, phase] of plan.phases.entries()) {
      const key = phaseKey(phase.id);
      this.planOrder.set(key, index);
      for (const dep of phase.depends_on) {
        const list = this.dependants.get(phaseKey(dep));
        if (list) list.push(key);
        else this.dependants.set(phaseKey(dep), [key]);
      }
      this.byState.get('pending')!.add(key);
      if (plan.auto_advance) this.candidates.add(key);
      const record: PhaseRecord = {
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
      };
      this.records.set(key, record);
      this.phasesByKey.set(key, phase);
      this.entries.set(key, new PhaseEntry(key, record, this));
    }
  }

  phase(key: string): PhaseEntry {
    const entry = this.entries.get(key);
    if (!entry) throw new Error(`no phase ${key} in the plan`);
    return entry;
  }

  record(key: string): PhaseRecord {
    return this.phase(key).record;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** How many phases the plan has. */
  get size(): number {
    return this.entries.size;
  }

  dependantsOf(key: string): readonly string[] {
    return this.dependants.get(key) ?? [];
  }

  /** Phases holding a slot: running on a worker, or awaiting an agent. */
  running(): number {
    return this.count('running') + this.count('awaiting_agent');
  }

  count(state: PhaseState): number {
    return this.byState.get(state)!.size;
  }

  /** The phases in a state, in plan order. */
  keysIn(state: PhaseState): string[] {
    return this.inPlanOrder(this.byState.get(state)!);
  }

  moved(entry: PhaseEntry, from: PhaseState, to: PhaseState): void {
    this.byState.get(from)!.delete(entry.key);
    this.byState.get(to)!.add(entry.key);
    if (to === 'pending') this.candidates.add(entry.key);
    if (to === 'completed' || to === 'skipped') {
      this.finishedThisSegment += 1;
      for (const dependant of this.dependantsOf(entry.key)) this.candidates.add(dependant);
    }
  }

  nextCompletion(): number {
    return this.completedCount++;
  }

  /** Makes `key` a candidate to start again (after a restore, say). */
  reconsider(key: string): void {
    this.candidates.add(key);
  }

  private inPlanOrder(keys: Iterable<string>): string[] {
    return [...keys].sort((a, b) => this.planOrder.get(a)! - this.planOrder.get(b)!);
  }

  private depsDone(key: string): boolean {
    return this.phase(key).definition.depends_on.every((dep) => {
      const state = this.records.get(phaseKey(dep))?.state;
      return state === 'completed' || state === 'skipped';
    });
  }

  /** Pending, requested phases whose dependencies are all completed or skipped, in plan order. */
  readyPhases(): string[] {
    const ready: string[] = [];
    for (const key of this.inPlanOrder(this.candidates)) {
      const entry = this.phase(key);
      if ((entry.state !== 'pending' && entry.state !== 'ready') || !entry.record.requested || !this.depsDone(key)) {
        // Comes back when it is put back to pending, requested, or a dependency finishes.
        this.candidates.delete(key);
        continue;
      }
      entry.moveTo('ready');
      ready.push(key);
    }
    return ready;
  }

  packageFor(entry: PhaseEntry, now: Date, separateAgent = false): HandoffPackage {
    return forTransport(buildHandoffPackage({
      executionId: this.executionId,
      plan: this.plan,
      config: this.config,
      phase: entry.definition,
      phasesByKey: this.phasesByKey,
      progress: this.records,
      stateCounts: this.stateCounts(),
      generation: Math.max(1, entry.record.generation),
      now,
      separateAgent,
      workdirMarked: this.workdirMarked,
      ...(this.temporalRunId ? { temporalRunId: this.temporalRunId } : {}),
    }));
  }

  generationFloor(key: string): number {
    return this.generationFloors.get(key) ?? 0;
  }

  /**
   * A run made by a Reset has learnt where it came from: it records the reset, and makes every
   * phase it starts from now on a generation beyond those the replaced runs handed out.
   */
  noteReset(reset: Reset | null, generations: Record<string, number>): string {
    if (reset) this.resets.push(reset);
    for (const [key, generation] of Object.entries(generations)) {
      if (this.has(key) && generation > this.generationFloor(key)) this.generationFloors.set(key, generation);
    }
    if (!reset) return 'this run was made by a reset, but its history does not say from which run; phases it runs again get new generations all the same';
    const why = reset.reason ? ` (${reset.reason})` : '';
    return `reset${why}: this run continues Temporal run ${reset.base_run_id} from its event ${reset.event_id}; what that run did after it runs again here, as new generations of its phases`;
  }

  /** How many phases are in each state, in the order of PHASE_STATES, leaving out the empty ones. */
  stateCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [state, keys] of this.byState) if (keys.size > 0) counts[state] = keys.size;
    return counts;
  }

  /** A phase whose output an earlier run produced (checked by hash by the client): completed without running. */
  reuse(resume: Resume): void {
    for (const [key, earlier] of Object.entries(resume.phases)) {
      if (!this.has(key)) continue;
      const entry = this.phase(key);
      entry.record.reused_from = resume.from_run;
      entry.complete({
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

  /** Dependencies whose outputs a phase's package needs but which were archived, so must be read back first. */
  archivedInputs(key: string): string[] {
    const phase = this.phase(key).definition;
    const keys = phase.transitive_context ? transitiveDependencies(this.phasesByKey, key) : phase.depends_on.map(phaseKey);
    return keys.filter((k) => {
      const rec = this.records.get(k);
      return rec?.archived === true && rec.state === 'completed' && !rec.output;
    });
  }

  /** An archived output read back from its archive file. */
  restoreOutput(key: string, output: PhaseContext): void {
    this.record(key).output = output;
  }

  /** Dependencies' outputs, for a refresh: their artifacts are re-read from disk. */
  dependencyOutputs(key: string): Record<string, PhaseContext> {
    const outputs: Record<string, PhaseContext> = {};
    for (const dep of this.phase(key).definition.depends_on.map(phaseKey)) {
      const output = this.record(dep).output;
      if (output) outputs[dep] = output;
    }
    return outputs;
  }

  /** A dependency's output with its files re-hashed as they are now (retryPhase refresh). */
  replaceOutput(key: string, output: PhaseContext): void {
    const rec = this.record(key);
    rec.output = output;
    rec.context = output;
  }

  /** Why the phase cannot be requested with executePhase, or undefined. */
  requestProblem(key: string): string | undefined {
    if (!this.has(key)) return `executePhase: the plan has no phase ${key}; phases are ${this.keys().join(', ')}`;
    const state = this.phase(key).state;
    if (state !== 'pending' && state !== 'ready') {
      return `executePhase: phase ${key} is ${state}; use retryPhase to run a finished phase again`;
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

  /**
   * Puts a failed or completed phase back to pending, and its downstream phases too when asked.
   * Returns a notice instead when the request cannot be honoured.
   */
  retry(key: string, downstream: boolean): string | undefined {
    if (!this.has(key)) return `retryPhase: the plan has no phase ${key}; phases are ${this.keys().join(', ')}`;
    const state = this.phase(key).state;
    if (state !== 'failed' && state !== 'completed' && state !== 'skipped') {
      return `retryPhase: phase ${key} is ${state}; only a failed, completed or skipped phase can be retried`;
    }
    const keys = downstream ? [key, ...downstreamOf(this.plan.phases, key)] : [key];
    for (const k of keys) {
      const entry = this.phase(k);
      if (entry.state === 'running' || entry.state === 'awaiting_agent') continue;
      entry.record.requested = true;
      entry.moveTo('pending');
      this.candidates.add(k);
      delete entry.record.error;
      delete entry.record.agent_fallback;
    }
    return undefined;
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
    const entry = this.phase(key);
    const next: Phase = { ...entry.definition, ...changes, config: { ...entry.definition.config, ...(request.config ?? {}) } };
    this.phasesByKey.set(key, next);
    const rec = entry.record;
    rec.resource_class = next.resource_class;
    rec.task_queue = phaseSettings(next, this.config).taskQueue;
    const overridden = { ...changes, ...(request.config ? { config: request.config } : {}) };
    if (Object.keys(overridden).length > 0) rec.override = { ...(rec.override ?? {}), ...overridden };
    return undefined;
  }

  skip(key: string): string | undefined {
    if (!this.has(key)) return `skipPhase: the plan has no phase ${key}; phases are ${this.keys().join(', ')}`;
    const entry = this.phase(key);
    const state = entry.state;
    if (state === 'completed' || state === 'skipped' || state === 'running' || state === 'awaiting_agent') {
      return `skipPhase: phase ${key} is ${state}; only a pending, ready or failed phase can be skipped`;
    }
    // Skipping a phase that failed part way abandons its partial work: roll it back.
    if (state === 'failed' && entry.definition.compensate) this.compensationsDue.push(key);
    entry.moveTo('skipped');
    delete entry.record.output;
    return undefined;
  }

  progress(key: string, message: string, percent: number | undefined, now: Date): string | undefined {
    if (!this.has(key)) return `agentProgress: the plan has no phase ${key}`;
    const entry = this.phase(key);
    if (entry.state !== 'awaiting_agent') return `agentProgress: phase ${key} is ${entry.state}, not awaiting an agent`;
    entry.record.progress = { message, at: now.toISOString(), ...(percent === undefined ? {} : { percent }) };
    return undefined;
  }

  /** Records what the phase watch saw of the running phases' activities (watchPhases, by activity id). */
  noteWatch(notes: Record<string, PhaseWatchNote>): void {
    for (const key of this.keysIn('running')) {
      const entry = this.phase(key);
      entry.watched(notes[entry.activityId()]);
    }
  }

  /** Records, from a queue watch, which running phases still wait for a worker, and why (runs from before baton-phase-watch-1). */
  noteQueues(watch: { started: string[]; scheduled: string[]; workers: Record<string, number> }): void {
    for (const key of this.keysIn('running')) {
      const entry = this.phase(key);
      const rec = entry.record;
      if (!watch.scheduled.includes(entry.activityId())) {
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

  /** On abort: every phase left failed (in flight, or failed before) that has a rollback. */
  dueOnAbort(): string[] {
    return this.keysIn('failed').filter((k) => this.phase(k).definition.compensate && !this.record(k).compensation);
  }

  allDone(): boolean {
    return this.count('completed') + this.count('skipped') === this.size;
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
}
