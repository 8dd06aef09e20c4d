/**
 * Continue-as-new: what a run hands to the run it continues as, and how that run takes over.
 * Phases never touched are left out (the plan rebuilds them); finished phases that no unfinished
 * phase depends on are archived (their details go to a file, a tuple stays); everything else
 * travels whole.
 */
import type { PhaseContext } from '../handoff/schema.js';
import type { ArchivedPhase, Continued, PhaseRecord } from '../api/run-input.js';
import type { PhaseStatus } from '../api/status.js';
import type { PhaseEntry } from './phase-entry.js';
import type { RunBook } from './run-book.js';

export interface Carried {
  continued: Continued;
  /** Full status and output of the phases archived now, for the archive file. */
  archive: Record<string, { status: PhaseStatus; output?: PhaseContext }>;
}

/** Notices carried into a continued run: the latest, enough to explain what happened lately. */
const CARRIED_NOTICES = 50;

export function carry(book: RunBook): Carried {
  const phases: Record<string, PhaseRecord> = {};
  const archived: ArchivedPhase[] = [];
  const archive: Carried['archive'] = {};
  for (const key of book.keys()) {
    const entry = book.phase(key);
    const rec = entry.record;
    if (rec.archived) {
      archived.push(archivedTuple(entry));
    } else if (archivable(book, entry)) {
      archive[key] = { status: entry.status(), ...(rec.output ? { output: rec.output } : {}) };
      archived.push(archivedTuple(entry));
    } else if (!untouched(book, entry)) {
      phases[key] = rec;
    }
  }
  return {
    continued: {
      segment: book.segment + 1,
      started_at: book.startedAt.toISOString(),
      paused: book.paused,
      notices: book.notices.slice(-CARRIED_NOTICES),
      completed_count: book.completedCount,
      compensations_due: [...book.compensationsDue],
      refresh_due: [...book.refreshDue],
      phases,
      archived,
      archives: [...book.archives],
      ...(book.resets.length > 0 ? { resets: [...book.resets] } : {}),
      ...(book.generationFloors.size > 0 ? { generation_floors: Object.fromEntries(book.generationFloors) } : {}),
    },
    archive,
  };
}

/** Takes up where the run this one continues left off. */
export function restore(book: RunBook, continued: Continued): void {
  book.segment = continued.segment;
  book.paused = continued.paused;
  book.notices.push(...continued.notices);
  book.completedCount = continued.completed_count;
  book.compensationsDue.push(...continued.compensations_due);
  for (const key of continued.refresh_due) book.refreshDue.add(key);
  book.archives.push(...continued.archives);
  book.resets.push(...(continued.resets ?? []));
  for (const [key, floor] of Object.entries(continued.generation_floors ?? {})) book.generationFloors.set(key, floor);
  for (const [key, state, attempts, generation, seq] of continued.archived) {
    if (!book.has(key)) continue;
    const entry = book.phase(key);
    entry.moveTo(state);
    entry.record.attempts = attempts;
    entry.record.generation = generation;
    if (seq !== null) entry.record.completedSeq = seq;
    entry.record.archived = true;
  }
  for (const [key, saved] of Object.entries(continued.phases)) {
    if (!book.has(key)) continue;
    const entry = book.phase(key);
    const { state, ...rest } = saved;
    Object.assign(entry.record, rest);
    entry.moveTo(state);
    book.reconsider(key);
    if (entry.record.override) book.override(key, { phase: entry.record.id, ...entry.record.override });
  }
  book.finishedThisSegment = 0;
}

function archivedTuple(entry: PhaseEntry): ArchivedPhase {
  const rec = entry.record;
  return [entry.key, rec.state as ArchivedPhase[1], rec.attempts, rec.generation, rec.completedSeq ?? null];
}

/** Finished, with every phase that depends on it finished too, and nothing left to do for it. */
function archivable(book: RunBook, entry: PhaseEntry): boolean {
  const rec = entry.record;
  if (rec.state !== 'completed' && rec.state !== 'skipped') return false;
  if (rec.override || rec.compensation?.state === 'running' || book.refreshDue.has(entry.key) || book.compensationsDue.includes(entry.key)) return false;
  return book.dependantsOf(entry.key).every((d) => {
    const state = book.record(d).state;
    return state === 'completed' || state === 'skipped';
  });
}

function untouched(book: RunBook, entry: PhaseEntry): boolean {
  const rec = entry.record;
  const phase = entry.definition;
  return (
    rec.state === 'pending' &&
    rec.generation === 0 &&
    rec.attempts === 0 &&
    rec.requested === book.plan.auto_advance &&
    rec.separate_agent === (phase.use_separate_agent || book.config.use_separate_agents) &&
    !rec.override &&
    !rec.reused_from
  );
}
