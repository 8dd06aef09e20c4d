/**
 * Keeping a status within its size budget, whatever the plan's size or state: a workflow result
 * or memo is one payload (2 MiB at most), a query answer one gRPC message, and a status that
 * outgrows them makes `status`, the run's end and its abort fail. So the status gives up, in
 * turn: finished phases' details, finished phases, phases not started, then as many of the rest
 * as do not fit (failed phases kept longest). `summary` always counts every phase; the `phases`
 * query pages through them all; the final execution_context.json has every one.
 */
import { cutText, LIMITS, utf8Length } from '../api/limits.js';
import type { PhaseStatus, RunStatus } from '../api/status.js';

/** Result and query answers: well inside the payload limit. */
export const STATUS_BUDGET_BYTES = LIMITS.statusBytes;
/** The memo is shown on every UI page of the run; it gets less. */
export const MEMO_BUDGET_BYTES = LIMITS.memoBytes;

const finished = (p: PhaseStatus): boolean => p.state === 'completed' || p.state === 'skipped';
/**
 * What a status keeps longest when it must leave phases out: what needs eyes first (failed,
 * running, awaiting an agent, ready, then a requested phase that waits for one nobody requested).
 */
const KEPT_FIRST: ReadonlyArray<(p: PhaseStatus) => boolean> = [
  (p) => p.state === 'failed',
  (p) => p.state === 'running',
  (p) => p.state === 'awaiting_agent',
  (p) => p.state === 'ready',
  (p) => p.state === 'pending' && p.unrequested_dependencies !== undefined,
];

function bytesOf(value: unknown): number {
  return utf8Length(JSON.stringify(value));
}

/** A phase's share of a status: its entry in `phases` as JSON (`"key":{...},`). */
function entryBytes(key: string, phase: PhaseStatus): number {
  return bytesOf(phase) + utf8Length(key) + 4;
}

/**
 * Each phase is measured once (a 10,000-phase status is measured in one pass, not re-serialised
 * whole at each step), so `status` answers in well under a second at any size.
 */
export function boundedStatus(status: RunStatus, budget: number = STATUS_BUDGET_BYTES, what = 'status'): RunStatus {
  const all = Object.entries(status.phases);
  const base = (s: RunStatus): number => bytesOf({ ...s, phases: {} });
  const sizes = all.map(([key, phase]) => entryBytes(key, phase));
  if (base(status) + sizes.reduce((a, b) => a + b, 0) <= budget) return status;

  const phases: RunStatus['phases'] = {};
  let slimBytes = 0;
  all.forEach(([key, phase], i) => {
    if (!finished(phase)) {
      phases[key] = phase;
      slimBytes += sizes[i]!;
      return;
    }
    const { context: _context, provenance: _provenance, handoff_path: _path, content_hash: _hash, ...rest } = phase;
    phases[key] = rest;
    slimBytes += entryBytes(key, rest);
  });
  // Notices and the held reason are kept short where they are made; a run from before that may hold longer ones.
  const slim: RunStatus = {
    ...status,
    notices: status.notices.slice(-LIMITS.notices).map((n) => cutText(n, LIMITS.noticeChars)),
    ...(status.held_reason ? { held_reason: cutText(status.held_reason, 2 * LIMITS.errorChars) } : {}),
    phases,
  };
  if (base(slim) + slimBytes <= budget) return slim;

  const unfinished = all.filter(([, p]) => !finished(p));
  const unfinishedBytes = all.reduce((n, [, p], i) => (finished(p) ? n : n + sizes[i]!), 0);
  const withoutFinished = leftOut(slim, Object.fromEntries(unfinished), all.length, what, 'completed or skipped phases');
  if (base(withoutFinished) + unfinishedBytes <= budget) return withoutFinished;

  // Phases that need eyes, in that order, as many as fit beside everything else.
  let room = budget - base(leftOut(slim, {}, all.length, what, 'phases')) - 64; // the count in the notice may grow a digit or two
  const kept = new Set<string>();
  const sizeOf = new Map(all.map(([key], i) => [key, sizes[i]!]));
  for (const wanted of KEPT_FIRST) {
    for (const [key, phase] of unfinished) {
      if (!wanted(phase) || kept.has(key)) continue;
      const size = sizeOf.get(key)!;
      if (size > room) continue;
      kept.add(key);
      room -= size;
    }
  }
  // In plan order, as the status always lists them.
  return leftOut(slim, Object.fromEntries(unfinished.filter(([key]) => kept.has(key))), all.length, what, 'phases');
}

/** The status with only `kept` of its phases, saying how many it leaves out and where they are. */
function leftOut(status: RunStatus, kept: RunStatus['phases'], total: number, what: string, which: string): RunStatus {
  const omitted = total - Object.keys(kept).length;
  return {
    ...status,
    phases: kept,
    omitted_phases: omitted,
    notices: [
      ...status.notices,
      `${omitted} ${which} are left out of this ${what} for size (summary counts every phase); the phases query lists them page by page (baton status ${status.execution_id} --state <state>), and execution_context.json in the workdir has them all`,
    ],
  };
}

/** The memo keeps no phase outputs at all (they are in history and in execution_context.json). */
export function memoStatus(status: RunStatus): RunStatus {
  const phases: RunStatus['phases'] = {};
  for (const [key, phase] of Object.entries(status.phases)) {
    const { context: _context, ...rest } = phase;
    phases[key] = rest;
  }
  return boundedStatus({ ...status, phases }, MEMO_BUDGET_BYTES, 'memo');
}
