/**
 * One phase of a run: its definition (with what a retry overrode), its record, and every move it
 * can make. Whoever runs a phase holds its entry, so the phase's state is read and changed in one
 * place; the run book only hears of each move, to keep its indexes.
 */
import { cutText, LIMITS } from '../api/limits.js';
import type { HandoffPackage, PhaseContext, PhaseState } from '../handoff/schema.js';
import { phaseSettings, type PhaseSettings } from '../plan/phase-settings.js';
import type { OrchestratorConfig, Phase } from '../plan/schema.js';
import type { ActivitySettings, AwaitingAgent, PhaseStatus } from '../api/status.js';
import type { PhaseRecord } from '../api/run-input.js';
import type { PhaseWatchNote } from '../../activities/types.js';

/** How Temporal retries a phase's attempts: the backoff is Baton's, the number of attempts the phase's. */
export const PHASE_BACKOFF = { initial_interval_s: 1, backoff_coefficient: 2, maximum_interval_s: 60 } as const;

/** A phase activity's attempts: its retries and the first, and, since baton-interruptions-1, the interruptions it may have on top. */
export function phaseMaximumAttempts(retries: number, workerLossRetries: number, interruptionsSpareRetries: boolean): number {
  return retries + 1 + (interruptionsSpareRetries ? workerLossRetries : 0);
}

export function phaseRetryPolicy(maximumAttempts: number): { maximumAttempts: number; initialInterval: string; backoffCoefficient: number; maximumInterval: string } {
  return {
    maximumAttempts,
    initialInterval: `${PHASE_BACKOFF.initial_interval_s} seconds`,
    backoffCoefficient: PHASE_BACKOFF.backoff_coefficient,
    maximumInterval: `${PHASE_BACKOFF.maximum_interval_s} seconds`,
  };
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

/** What an entry needs from the run around it. */
export interface PhaseBookkeeping {
  readonly config: OrchestratorConfig;
  /** Every phase as defined, with a retry's overrides applied. */
  readonly phasesByKey: ReadonlyMap<string, Phase>;
  /** Called on every state change, so the run's indexes never drift from the records. */
  moved(entry: PhaseEntry, from: PhaseState, to: PhaseState): void;
  /** The package of the entry's current generation, built from the whole run's state. */
  packageFor(entry: PhaseEntry, now: Date, separateAgent: boolean): HandoffPackage;
  /** The next position in completion order. */
  nextCompletion(): number;
  /** A generation of the phase that runs a Reset replaced already handed out (0 when none). */
  generationFloor(key: string): number;
}

export class PhaseEntry {
  /** An operator handed the phase, awaiting an agent, back to a worker (handPhase): its wait runs it inline. */
  handBack = false;

  constructor(
    readonly key: string,
    readonly record: PhaseRecord,
    private readonly run: PhaseBookkeeping,
  ) {}

  /** The phase as the plan defines it, with a retry's overrides applied. */
  get definition(): Phase {
    return this.run.phasesByKey.get(this.key)!;
  }

  get state(): PhaseState {
    return this.record.state;
  }

  /** Effective queue, timeout and retries: the phase's own, else its class's, else the config's. */
  settings(): PhaseSettings {
    return phaseSettings(this.definition, this.run.config);
  }

  /** The settings its activity is scheduled with (runInline), as the watch compares them with Temporal's. */
  activitySettings(interruptionsSpareRetries: boolean): ActivitySettings {
    const settings = this.settings();
    return {
      task_queue: settings.taskQueue,
      start_to_close_timeout_s: settings.timeoutSeconds,
      schedule_to_close_timeout_s: 0,
      schedule_to_start_timeout_s: 0,
      heartbeat_timeout_s: this.run.config.heartbeat_timeout_s,
      maximum_attempts: phaseMaximumAttempts(settings.retries, this.run.config.worker_loss_retries, interruptionsSpareRetries),
      ...PHASE_BACKOFF,
    };
  }

  /** The id of the phase's activity now in flight: unique per generation and dispatch. */
  activityId(): string {
    return `phase-${this.key}-g${this.record.generation}-d${this.record.dispatches}`;
  }

  moveTo(state: PhaseState): void {
    const from = this.record.state;
    if (from === state) return;
    this.record.state = state;
    this.run.moved(this, from, state);
  }

  /** Marks the phase running as a new generation and returns that generation's package. */
  start(now: Date, separateAgent = this.record.separate_agent): HandoffPackage {
    const rec = this.record;
    rec.generation = Math.max(rec.generation, this.run.generationFloor(this.key)) + 1;
    rec.dispatches = 0;
    delete rec.archived;
    this.moveTo('running');
    rec.scheduled_at = now.toISOString();
    rec.started_at = rec.scheduled_at;
    rec.finished_at = null;
    delete rec.error;
    delete rec.awaiting;
    delete rec.progress;
    delete rec.waiting_for_workers;
    delete rec.activity;
    return this.run.packageFor(this, now, separateAgent);
  }

  complete(result: PhaseCompletion): void {
    const rec = this.record;
    this.moveTo('completed');
    delete rec.waiting_for_workers;
    delete rec.activity;
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
    rec.completedSeq = this.run.nextCompletion();
  }

  fail(error: string, attempts: number, executedBy: string | undefined, now: Date): void {
    const rec = this.record;
    this.moveTo('failed');
    delete rec.waiting_for_workers;
    delete rec.activity;
    rec.attempts += attempts;
    // Its start: an error of megabytes (an agent's, a failure's) must not make the status too large to read.
    rec.error = cutText(error, LIMITS.errorChars);
    delete rec.awaiting;
    if (executedBy) rec.executed_by = executedBy;
    rec.finished_at = now.toISOString();
  }

  /** In flight when the run was aborted: its work was cancelled, so it did not complete. */
  abandon(now: Date): void {
    if (this.state !== 'running' && this.state !== 'awaiting_agent') return;
    this.fail('cancelled: the run was aborted while this phase was in flight', 0, undefined, now);
  }

  awaitAgent(awaiting: AwaitingAgent): void {
    this.moveTo('awaiting_agent');
    this.record.awaiting = awaiting;
    this.record.content_hash = awaiting.package_hash;
    this.record.handoff_path = awaiting.handoff_path;
  }

  /** Records why a phase meant for an agent went to a worker; kept until the phase is retried. */
  noteAgentFallback(reason: string): void {
    this.record.agent_fallback = cutText(reason, LIMITS.errorChars);
  }

  compensationStarted(now: Date): void {
    this.record.compensation = { state: 'running', at: now.toISOString() };
  }

  compensationEnded(error: string | undefined, now: Date): void {
    this.record.compensation = { state: error ? 'failed' : 'completed', at: now.toISOString(), ...(error ? { error: cutText(error, LIMITS.errorChars) } : {}) };
  }

  /** What the run's watch saw of the phase's activity in Temporal (nothing to say: undefined). */
  watched(note: PhaseWatchNote | undefined): void {
    const rec = this.record;
    if (rec.state !== 'running' || rec.separate_agent) return;
    if (note?.activity) rec.activity = note.activity;
    else delete rec.activity;
    if (note?.waiting) rec.waiting_for_workers = waitingMessage(note.waiting.task_queue, note.waiting.workers);
    else delete rec.waiting_for_workers;
  }

  /** The phase as the status shows it: the record less what only the run needs. */
  status(): PhaseStatus {
    const { output: _output, completedSeq: _seq, requested: _requested, dispatches: _dispatches, ...recorded } = this.record;
    // The labels an agent needs to claim the phase (plans that declare none show none).
    const labels = this.definition.agent?.labels ?? [];
    const visible = labels.length > 0 ? { ...recorded, agent_labels: labels } : recorded;
    // While it runs, the attempts count those Temporal has begun (once the watch has said): a
    // phase backing off before, or paused at, attempt 5 has made 4.
    const a = visible.activity;
    if (visible.state === 'running' && a) {
      const begun = a.state === 'scheduled' || a.state === 'paused' ? a.attempt - 1 : a.attempt;
      return { ...visible, attempts: visible.attempts + begun };
    }
    return visible;
  }
}

/** Why a phase handed to its queue has not started. */
export function waitingMessage(taskQueue: string, workers: number): string {
  const start = taskQueue.startsWith('baton-') ? `: start \`baton worker --class ${taskQueue.slice('baton-'.length)}\`` : '';
  return workers === 0
    ? `no worker polls ${taskQueue}${start}`
    : `waiting in ${taskQueue}'s backlog: its ${workers} worker${workers === 1 ? ' is' : 's are'} busy`;
}

function setOrClear<K extends 'content_hash' | 'handoff_path' | 'handoff_fallback'>(rec: PhaseRecord, key: K, value: string | null): void {
  if (value === null) delete rec[key];
  else rec[key] = value;
}
