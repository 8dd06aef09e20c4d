/**
 * The run's watch on its phases in Temporal (runs since baton-phase-watch-1): while any phase runs
 * on a worker, one watchPhases activity at a time looks every few seconds at what Temporal knows
 * of their activities and answers when that changes: a phase waits for workers (or stops
 * waiting), is paused or unpaused, is past its first attempt, or has had its settings changed.
 * Pause and update-options make no event in history, so this is how the run learns of them.
 * History grows by one activity per change, not per look.
 */
import { condition, isCancellation, log, sleep } from '@temporalio/workflow';
import type { PhaseWatchNote, PhaseWatchRequest } from '../../activities/types.js';
import { PhaseActivitySchema, type ActivitySettings } from '../api/status.js';
import { fingerprint } from '../api/fingerprint.js';
import { canonicalJson } from '../handoff/canonical.js';
import { cancellation, orchestratorActivities } from './activities.js';
import type { RunBehaviour } from './behaviour.js';
import type { PhaseEntry } from './phase-entry.js';
import type { RunBook } from './run-book.js';

/** After a watch fails (its own retries spent), wait this long before the next, doubling up to ten minutes. */
const RETRY_AFTER_MS = 30_000;
const RETRY_AT_MOST_MS = 600_000;

export async function watchPhases(book: RunBook, changed: () => void, behaviour: RunBehaviour): Promise<void> {
  const { interruptionsSpareRetries } = behaviour;
  const onWorkers = (): PhaseEntry[] => book.keysIn('running').filter((k) => !book.record(k).separate_agent).map((k) => book.phase(k));
  let known: Record<string, PhaseWatchNote> = {};
  let failures = 0;
  try {
    for (;;) {
      await condition(() => onWorkers().length > 0);
      const request = watchRequest(book.executionId, onWorkers(), known, interruptionsSpareRetries);
      try {
        const { notes } = await orchestratorActivities.watchPhases.executeWithOptions(
          {
            startToCloseTimeout: '11 minutes',
            heartbeatTimeout: '30 seconds',
            retry: { maximumAttempts: 3, initialInterval: '5 seconds' },
            summary: 'Watch the running phases in Temporal',
            ...cancellation(behaviour),
          },
          [request],
        );
        failures = 0;
        known = notes; // as sent, so the next watch compares like with like
        book.noteWatch(checked(notes));
        changed();
      } catch (err) {
        if (isCancellation(err)) throw err;
        failures += 1;
        log.warn(`the phase watch failed (${err instanceof Error ? err.message : String(err)}); looking again later`);
        await sleep(Math.min(RETRY_AT_MOST_MS, RETRY_AFTER_MS * 2 ** (failures - 1)));
      }
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
  }
}

/**
 * What the watch needs: what the run knows of the phases running now, and the settings it gave
 * their activities, as the most common settings plus the phases that differ (small at any scale).
 */
export function watchRequest(workflowId: string, entries: PhaseEntry[], known: Record<string, PhaseWatchNote>, interruptionsSpareRetries: boolean): PhaseWatchRequest {
  const byId = new Map<string, ActivitySettings>();
  const counts = new Map<string, number>();
  for (const entry of entries) {
    const settings = entry.activitySettings(interruptionsSpareRetries);
    byId.set(entry.activityId(), settings);
    const key = canonicalJson(settings);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let usualKey = '';
  for (const [key, n] of counts) if (n > (counts.get(usualKey) ?? 0)) usualKey = key;
  const usual = JSON.parse(usualKey) as ActivitySettings;
  const except: Record<string, ActivitySettings> = {};
  const stillKnown: Record<string, string> = {};
  for (const [id, settings] of byId) {
    if (canonicalJson(settings) !== usualKey) except[id] = settings;
    if (known[id]) stillKnown[id] = fingerprint(known[id]);
  }
  return { workflowId, known: stillKnown, settings: { usual, except } };
}

/** The notes whose activity fits the status schema (a watch of another version could send others: they would break the status). */
function checked(notes: Record<string, PhaseWatchNote>): Record<string, PhaseWatchNote> {
  const fit: Record<string, PhaseWatchNote> = {};
  for (const [id, note] of Object.entries(notes)) {
    if (note.activity === undefined) {
      fit[id] = note;
      continue;
    }
    const parsed = PhaseActivitySchema.safeParse(note.activity);
    if (parsed.success) fit[id] = { ...note, activity: parsed.data };
    else log.warn(`the phase watch said something the status cannot hold about ${id}: ${parsed.error.message}`);
  }
  return fit;
}
