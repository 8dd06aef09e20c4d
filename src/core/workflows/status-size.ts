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
/** What a status keeps longest when it must leave phases out: what needs eyes first. */
const KEPT_FIRST: ReadonlyArray<PhaseStatus['state']> = ['failed', 'running', 'awaiting_agent', 'ready'];

function bytesOf(value: unknown): number {
  return utf8Length(JSON.stringify(value));
}

export function boundedStatus(status: RunStatus, budget: number = STATUS_BUDGET_BYTES, what = 'status'): RunStatus {
  if (bytesOf(status) <= budget) return status;
  const all = Object.entries(status.phases);
  const phases: RunStatus['phases'] = {};
  for (const [key, phase] of all) {
    if (!finished(phase)) {
      phases[key] = phase;
      continue;
    }
    const { context: _context, provenance: _provenance, handoff_path: _path, content_hash: _hash, ...rest } = phase;
    phases[key] = rest;
  }
  // Notices and the held reason are kept short where they are made; a run from before that may hold longer ones.
  const slim: RunStatus = {
    ...status,
    notices: status.notices.slice(-LIMITS.notices).map((n) => cutText(n, LIMITS.noticeChars)),
    ...(status.held_reason ? { held_reason: cutText(status.held_reason, 2 * LIMITS.errorChars) } : {}),
    phases,
  };
  if (bytesOf(slim) <= budget) return slim;

  const unfinished = Object.fromEntries(Object.entries(phases).filter(([, p]) => !finished(p)));
  const withoutFinished = leftOut(slim, unfinished, all.length, what, 'completed or skipped phases');
  if (bytesOf(withoutFinished) <= budget) return withoutFinished;

  // Phases that need eyes, in that order, as many as fit beside everything else.
  const base = leftOut(slim, {}, all.length, what, 'phases');
  let room = budget - bytesOf(base) - 256; // for the notice's longer count
  const kept: RunStatus['phases'] = {};
  for (const state of KEPT_FIRST) {
    for (const [key, phase] of Object.entries(unfinished)) {
      if (phase.state !== state) continue;
      const size = bytesOf(phase) + utf8Length(key) + 4;
      if (size > room) continue;
      kept[key] = phase;
      room -= size;
    }
  }
  // In plan order, as the status always lists them.
  const ordered = Object.fromEntries(Object.keys(unfinished).filter((k) => k in kept).map((k) => [k, kept[k]!]));
  return leftOut(slim, ordered, all.length, what, 'phases');
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
