/**
 * What the run shows of itself: the `status` answer (and the result), and the overview that the
 * Web UI's details and the search attributes are published from on every workflow task.
 */
import { runWorkdir } from '../handoff/build.js';
import type { PhaseStatus, Reset, RunState, RunStatus } from '../api/status.js';
import type { RunBook } from './run-book.js';

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
  /** The latest reset, if the run was reset. */
  reset?: Reset;
}

/** Why the run holds (or failed): each failed phase, and what to send. */
export function heldReason(book: RunBook): string | undefined {
  const failed = book.keysIn('failed');
  if (failed.length === 0) return undefined;
  const parts = failed.map((k) => `phase ${k} (${book.record(k).name}) failed: ${book.record(k).error ?? 'unknown error'}`);
  return `${parts.join('; ')}. Send retryPhase {"phase": ${JSON.stringify(book.record(failed[0]!).id)}} to run it again, or skipPhase to move on.`;
}

/** Built from the run book's indexes: it is published on every workflow task, so it must not cost the size of the plan. */
export function overview(book: RunBook): RunOverview {
  const state = book.runState();
  const held = state === 'held' || state === 'failed' ? heldReason(book) : undefined;
  return {
    plan: book.plan.name,
    state,
    paused: book.paused,
    ...(held ? { held_reason: held } : {}),
    total: book.size,
    counts: book.stateCounts(),
    running: book.keysIn('running'),
    awaiting_agent: book.keysIn('awaiting_agent'),
    failed: book.keysIn('failed'),
    ready: book.keysIn('ready'),
    ...(book.resets.length > 0 ? { reset: book.resets[book.resets.length - 1]! } : {}),
  };
}

export function phaseStatus(book: RunBook, key: string): PhaseStatus {
  return book.phase(key).status();
}

export function runStatus(book: RunBook, finishedAt: Date | null): RunStatus {
  const phases: Record<string, PhaseStatus> = {};
  for (const key of book.keys()) phases[key] = phaseStatus(book, key);
  const state = book.runState();
  const status: RunStatus = {
    execution_id: book.executionId,
    plan: book.plan.name,
    workdir: runWorkdir(book.plan),
    handoffs_enabled: book.config.agent_handoff_enabled,
    state,
    paused: book.paused,
    started_at: book.startedAt.toISOString(),
    finished_at: finishedAt ? finishedAt.toISOString() : null,
    notices: [...book.notices],
    phases,
  };
  if (book.segment > 0) status.continued = { segment: book.segment, archives: [...book.archives] };
  if (book.resets.length > 0) status.resets = [...book.resets];
  const held = state === 'held' || state === 'failed' ? heldReason(book) : undefined;
  if (held) status.held_reason = held;
  return status;
}
