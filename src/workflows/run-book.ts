/**
 * The run's state machine: which phases are ready, what a retry or skip does, and what
 * the run's state is. Pure (no Temporal APIs), so it is unit-tested directly and replays
 * deterministically inside the workflow.
 */
import type { HandoffPackage, PhaseContext } from '../handoff/schema.js';
import { buildHandoffPackage, runWorkdir, type PhaseProgress } from '../handoff/build.js';
import { downstreamOf } from '../plan/graph.js';
import { phaseSettings } from '../plan/phase-settings.js';
import { phaseKey, type OrchestratorConfig, type Phase, type Plan } from '../plan/schema.js';
import type { PhaseStatus, RunState, RunStatus } from './status.js';

interface PhaseRecord extends PhaseProgress, PhaseStatus {}

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

  running(): number {
    let n = 0;
    for (const rec of this.records.values()) if (rec.state === 'running' || rec.state === 'awaiting_agent') n++;
    return n;
  }

  /** Pending phases whose dependencies are all completed or skipped, in plan order. */
  readyPhases(): string[] {
    const ready: string[] = [];
    for (const [key, rec] of this.records) {
      if (rec.state !== 'pending' && rec.state !== 'ready') continue;
      const phase = this.phasesByKey.get(key)!;
      const depsDone = phase.depends_on.every((dep) => {
        const state = this.records.get(phaseKey(dep))?.state;
        return state === 'completed' || state === 'skipped';
      });
      if (depsDone) {
        rec.state = 'ready';
        ready.push(key);
      }
    }
    return ready;
  }

  /** Marks the phase running and returns the package for its new generation. */
  startPhase(key: string, now: Date): HandoffPackage {
    const rec = this.record(key);
    rec.generation += 1;
    rec.state = 'running';
    rec.scheduled_at = now.toISOString();
    rec.started_at = rec.scheduled_at;
    rec.finished_at = null;
    delete rec.error;
    return buildHandoffPackage({
      executionId: this.executionId,
      plan: this.plan,
      config: this.config,
      phase: this.phasesByKey.get(key)!,
      phasesByKey: this.phasesByKey,
      progress: this.records,
      generation: rec.generation,
      now,
    });
  }

  completePhase(key: string, result: PhaseCompletion): void {
    const rec = this.record(key);
    rec.state = 'completed';
    rec.attempts += result.attempts;
    rec.output = result.output;
    rec.context = result.output;
    rec.executed_by = result.executedBy;
    rec.started_at = result.startedAt;
    rec.finished_at = result.finishedAt;
    setOrClear(rec, 'content_hash', result.contentHash);
    setOrClear(rec, 'handoff_path', result.handoffPath);
    setOrClear(rec, 'handoff_fallback', result.handoffFallback);
    rec.completedSeq = this.completedCount++;
  }

  failPhase(key: string, error: string, attempts: number, executedBy: string | undefined, now: Date): void {
    const rec = this.record(key);
    rec.state = 'failed';
    rec.attempts += attempts;
    rec.error = error;
    if (executedBy) rec.executed_by = executedBy;
    rec.finished_at = now.toISOString();
  }

  /**
   * Puts a failed or completed phase back to pending, and its downstream phases too when asked.
   * Returns a notice instead when the request cannot be honoured.
   */
  retry(key: string, downstream: boolean): string | undefined {
    if (!this.records.has(key)) return `retryPhase: the plan has no phase ${key}; phases are ${[...this.records.keys()].join(', ')}`;
    const rec = this.record(key);
    if (rec.state !== 'failed' && rec.state !== 'completed' && rec.state !== 'skipped') {
      return `retryPhase: phase ${key} is ${rec.state}; only a failed, completed or skipped phase can be retried`;
    }
    const keys = downstream ? [key, ...downstreamOf(this.plan.phases, key)] : [key];
    for (const k of keys) {
      const r = this.record(k);
      if (r.state === 'running' || r.state === 'awaiting_agent') continue;
      r.state = 'pending';
      delete r.error;
    }
    return undefined;
  }

  skip(key: string): string | undefined {
    if (!this.records.has(key)) return `skipPhase: the plan has no phase ${key}; phases are ${[...this.records.keys()].join(', ')}`;
    const rec = this.record(key);
    if (rec.state === 'completed' || rec.state === 'skipped' || rec.state === 'running' || rec.state === 'awaiting_agent') {
      return `skipPhase: phase ${key} is ${rec.state}; only a pending, ready or failed phase can be skipped`;
    }
    rec.state = 'skipped';
    delete rec.output;
    return undefined;
  }

  allDone(): boolean {
    for (const rec of this.records.values()) if (rec.state !== 'completed' && rec.state !== 'skipped') return false;
    return true;
  }

  failedKeys(): string[] {
    return [...this.records].filter(([, r]) => r.state === 'failed').map(([k]) => k);
  }

  runState(): RunState {
    if (this.cancelled) return 'cancelled';
    if (this.allDone()) return 'completed';
    if (this.failedKeys().length > 0) {
      if (this.config.failed_phase_policy === 'fail') return 'failed';
      // Held once nothing else can move: an operator must retry or skip.
      if (this.running() === 0 && this.readyPhasesPeek().length === 0) return 'held';
    }
    return this.paused ? 'paused' : 'running';
  }

  private readyPhasesPeek(): string[] {
    return [...this.records].filter(([key, rec]) => {
      if (rec.state !== 'pending' && rec.state !== 'ready') return false;
      return this.phasesByKey.get(key)!.depends_on.every((dep) => {
        const s = this.records.get(phaseKey(dep))?.state;
        return s === 'completed' || s === 'skipped';
      });
    }).map(([k]) => k);
  }

  heldReason(): string | undefined {
    const failed = this.failedKeys();
    if (failed.length === 0) return undefined;
    const parts = failed.map((k) => `phase ${k} (${this.record(k).name}) failed: ${this.record(k).error ?? 'unknown error'}`);
    return `${parts.join('; ')}. Send retryPhase {"phase": ${JSON.stringify(this.record(failed[0]!).id)}} to run it again, or skipPhase to move on.`;
  }

  status(finishedAt: Date | null): RunStatus {
    const phases: Record<string, PhaseStatus> = {};
    for (const [key, rec] of this.records) {
      const { output: _output, completedSeq: _seq, ...visible } = rec;
      phases[key] = visible;
    }
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
