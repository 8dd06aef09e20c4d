/**
 * What the run shows of itself: the `status` answer (and the result), and the overview that the
 * Web UI's details and the search attributes are published from on every workflow task.
 */
import { cutText, LIMITS, utf8Length } from '../api/limits.js';
import { runWorkdir } from '../handoff/build.js';
import { phaseKey, type PhaseId } from '../plan/schema.js';
import type { PhasesPage, PhasesRequest, PhaseStatus, Reset, RunState, RunStatus } from '../api/status.js';
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

/** Failed phases a held reason names (the first, in plan order), and how much of each error it quotes. */
const HELD_NAMED = 5;
const HELD_ERROR_CHARS = 1_000;

/** Why the run holds (or failed): the failed phases (the first few, with the start of each error), and what to send. */
export function heldReason(book: RunBook): string | undefined {
  const failed = book.keysIn('failed');
  if (failed.length === 0) return undefined;
  const parts = failed.slice(0, HELD_NAMED).map((k) => `phase ${k} (${book.record(k).name}) failed: ${cutText(book.record(k).error ?? 'unknown error', HELD_ERROR_CHARS)}`);
  const more = failed.length > HELD_NAMED ? `; and ${failed.length - HELD_NAMED} more failed phases (the phases query, or baton status ${book.executionId} --state failed, lists them)` : '';
  return `${parts.join('; ')}${more}. Send retryPhase {"phase": ${JSON.stringify(book.record(failed[0]!).id)}} to run it again, or skipPhase to move on.`;
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
  const status = book.phase(key).status();
  const rec = book.record(key);
  if (rec.requested && (rec.state === 'pending' || rec.state === 'ready') && !book.plan.auto_advance) {
    const waits = unrequestedDependencies(book, key);
    if (waits.length > 0) status.unrequested_dependencies = waits;
  }
  return status;
}

/** How many a phase's `unrequested_dependencies` names, and how far the search for them looks. */
const UNREQUESTED_NAMED = 10;
const UNREQUESTED_LOOKS = 1_000;

/**
 * The phases a requested phase waits for that nobody has requested (in a plan with auto_advance:
 * false they never start on their own): its unfinished ancestors that are pending and not requested.
 */
export function unrequestedDependencies(book: RunBook, key: string): PhaseId[] {
  const found: PhaseId[] = [];
  const seen = new Set<string>([key]);
  const queue = [...book.phase(key).definition.depends_on];
  for (let looked = 0; queue.length > 0 && looked < UNREQUESTED_LOOKS && found.length < UNREQUESTED_NAMED; looked++) {
    const dep = queue.shift()!;
    const depKey = phaseKey(dep);
    if (seen.has(depKey) || !book.has(depKey)) continue;
    seen.add(depKey);
    const rec = book.record(depKey);
    if (rec.state === 'completed' || rec.state === 'skipped') continue;
    if (!rec.requested && (rec.state === 'pending' || rec.state === 'ready')) found.push(rec.id);
    queue.push(...book.phase(depKey).definition.depends_on);
  }
  return found;
}

/**
 * A page of the `phases` query: phases in plan order (of the states asked for), whole, at most
 * `limit` of them and LIMITS.pageBytes; `next` is where the next page starts.
 */
export function phasesPage(book: RunBook, request: PhasesRequest): PhasesPage {
  const states = request.state === undefined ? undefined : new Set(Array.isArray(request.state) ? request.state : [request.state]);
  const keys = book.keys();
  const matched = states ? [...states].reduce((n, state) => n + book.count(state), 0) : keys.length;
  let start = 0;
  if (request.after !== undefined) {
    const at = keys.indexOf(phaseKey(request.after));
    if (at < 0) throw new Error(`phases: "after" names phase ${phaseKey(request.after)}, which the plan does not have`);
    start = at + 1;
  }
  let skip = request.offset ?? 0;
  const limit = request.limit ?? 100;
  const phases: PhaseStatus[] = [];
  let bytes = 256;
  let next: PhaseId | null = null;
  for (let i = start; i < keys.length; i++) {
    const key = keys[i]!;
    if (states && !states.has(book.record(key).state)) continue;
    if (skip > 0) {
      skip -= 1;
      continue;
    }
    const status = phases.length < limit ? phaseStatus(book, key) : undefined;
    const size = status ? utf8Length(JSON.stringify(status)) + 1 : 0;
    if (!status || (phases.length > 0 && bytes + size > LIMITS.pageBytes)) {
      next = phases[phases.length - 1]!.id;
      break;
    }
    phases.push(status);
    bytes += size;
  }
  return { total: keys.length, matched, phases, next };
}

export function runStatus(book: RunBook, finishedAt: Date | null): RunStatus {
  const phases: Record<string, PhaseStatus> = {};
  for (const key of book.keys()) phases[key] = phaseStatus(book, key);
  const state = book.runState();
  const status: RunStatus = {
    execution_id: book.executionId,
    plan: book.plan.name,
    workdir: runWorkdir(book.plan),
    ...(book.config.store ? { store: book.config.store } : {}),
    handoffs_enabled: book.config.agent_handoff_enabled,
    state,
    paused: book.paused,
    started_at: book.startedAt.toISOString(),
    finished_at: finishedAt ? finishedAt.toISOString() : null,
    summary: { phases: book.size, by_state: book.stateCounts() },
    notices: [...book.notices],
    ...(book.noticesDropped > 0 ? { notices_dropped: book.noticesDropped } : {}),
    phases,
  };
  if (book.segment > 0) status.continued = { segment: book.segment, archives: [...book.archives] };
  if (book.resets.length > 0) status.resets = [...book.resets];
  const held = state === 'held' || state === 'failed' ? heldReason(book) : undefined;
  if (held) status.held_reason = held;
  return status;
}
