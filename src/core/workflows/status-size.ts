/**
 * Keeping a status within Temporal's size limits: a workflow result or memo is one payload
 * (2 MiB at most), a query answer one gRPC message (4 MiB). A 10,000-phase plan's full status is
 * larger, so finished phases give up their details first, then their entries; the complete
 * status is always in execution_context.json.
 */
import type { PhaseStatus, RunStatus } from '../api/status.js';

/** Result and query answers: well inside the payload limit. */
export const STATUS_BUDGET_CHARS = 1024 * 1024;
/** The memo is shown on every UI page of the run; it gets less. */
export const MEMO_BUDGET_CHARS = 256 * 1024;

const finished = (p: PhaseStatus): boolean => p.state === 'completed' || p.state === 'skipped';

export function boundedStatus(status: RunStatus, budget = STATUS_BUDGET_CHARS, what = 'status'): RunStatus {
  if (JSON.stringify(status).length <= budget) return status;
  const phases: RunStatus['phases'] = {};
  for (const [key, phase] of Object.entries(status.phases)) {
    if (!finished(phase)) {
      phases[key] = phase;
      continue;
    }
    const { context: _context, provenance: _provenance, handoff_path: _path, content_hash: _hash, ...rest } = phase;
    phases[key] = rest;
  }
  const slim = { ...status, phases };
  if (JSON.stringify(slim).length <= budget) return slim;
  const unfinished = Object.fromEntries(Object.entries(phases).filter(([, p]) => !finished(p)));
  const omitted = Object.keys(phases).length - Object.keys(unfinished).length;
  return {
    ...slim,
    phases: unfinished,
    omitted_phases: omitted,
    notices: [...slim.notices, `${omitted} completed or skipped phases are left out of this ${what} for size; see execution_context.json in the workdir`],
  };
}

/** The memo keeps no phase outputs at all (they are in history and in execution_context.json). */
export function memoStatus(status: RunStatus): RunStatus {
  const phases: RunStatus['phases'] = {};
  for (const [key, phase] of Object.entries(status.phases)) {
    const { context: _context, ...rest } = phase;
    phases[key] = rest;
  }
  return boundedStatus({ ...status, phases }, MEMO_BUDGET_CHARS, 'memo');
}
