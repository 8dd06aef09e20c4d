/**
 * The run's watch on its phases in Temporal. What Temporal knows of a running phase's activity
 * and the run does not (Pause makes no event in history; nor does update-options, nor a retry
 * until the last attempt fails) is read here from DescribeWorkflowExecution's pending activities,
 * with the live workers of any queue a phase waits in.
 *
 * One activity call waits, looking every few seconds, until what it sees differs from what the
 * run knows, and only then answers: the run's history grows by one activity per change (or per
 * ten quiet minutes), not per look, while the run still hears of a worker's arrival, a pause or a
 * retry within seconds.
 */
import { Context } from '@temporalio/activity';
import type { ConnectionLike } from '@temporalio/client';
import proto from '@temporalio/proto';
import { liveWorkers } from '../client/workers.js';
import type { ActivitySettings, PhaseActivity } from '../core/api/status.js';
import { fingerprint } from '../core/api/fingerprint.js';
import type { PhaseWatch, PhaseWatchNote, PhaseWatchRequest } from './types.js';

type PendingActivity = proto.temporal.api.workflow.v1.IPendingActivityInfo;
const { PendingActivityState } = proto.temporal.api.enums.v1;

/** How often to look while a phase waits for a worker, backs off or is paused; and otherwise. */
export const WATCH_CLOSELY_MS = 5_000;
export const WATCH_CALMLY_MS = 10_000;
/** Answer after this long even if nothing changed (a fresh call then carries on). */
export const WATCH_AT_MOST_MS = 10 * 60_000;
/**
 * A phase scheduled this long ago and not taken waits for workers: when its queue has none, and
 * when it has some (all busy, or slow to take it). Less is the normal dispatch.
 */
export const QUEUED_NO_WORKER_S = 3;
export const QUEUED_BUSY_S = 10;
const FAILURE_CHARS = 300;

const STATES: Record<number, PhaseActivity['state']> = {
  [PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED]: 'scheduled',
  [PendingActivityState.PENDING_ACTIVITY_STATE_STARTED]: 'started',
  [PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED]: 'paused',
  [PendingActivityState.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED]: 'pause_requested',
  [PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED]: 'cancel_requested',
};

function seconds(d: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(d?.seconds ?? 0) + (d?.nanos ?? 0) / 1e9;
}

function iso(epochSeconds: number): string | null {
  return epochSeconds > 0 ? new Date(epochSeconds * 1000).toISOString() : null;
}

/** The activity's settings as Temporal has them now; null when the server does not say. */
export function currentSettings(a: PendingActivity): ActivitySettings | null {
  const o = a.activityOptions;
  if (!o) return null;
  const retry = o.retryPolicy;
  return {
    task_queue: o.taskQueue?.name ?? '',
    start_to_close_timeout_s: seconds(o.startToCloseTimeout),
    schedule_to_close_timeout_s: seconds(o.scheduleToCloseTimeout),
    schedule_to_start_timeout_s: seconds(o.scheduleToStartTimeout),
    heartbeat_timeout_s: seconds(o.heartbeatTimeout),
    maximum_attempts: retry?.maximumAttempts ?? 0,
    initial_interval_s: seconds(retry?.initialInterval),
    backoff_coefficient: retry?.backoffCoefficient ?? 0,
    maximum_interval_s: seconds(retry?.maximumInterval),
  };
}

/** Which settings differ from those the run gave (it leaves the schedule-to-* timeouts unset: 0). */
export function changedSettings(now: ActivitySettings, given: ActivitySettings): string[] {
  return (Object.keys(given) as (keyof ActivitySettings)[]).filter((key) => {
    const a = now[key];
    const b = given[key];
    if (typeof a === 'string' || typeof b === 'string') return a !== b;
    return Math.abs(a - b) > 0.001;
  });
}

/**
 * What there is to say about one phase activity: Temporal's view of it, when it is paused, past its
 * first attempt or has changed settings (none for a first attempt with the run's settings); and,
 * when it sits in its queue not yet taken, which queue and for how long.
 */
export function readActivity(a: PendingActivity, given: ActivitySettings, nowSeconds: number): { activity?: PhaseActivity; queued?: { task_queue: string; for_s: number } } {
  const state = STATES[a.state ?? 0] ?? 'scheduled';
  const attempt = Math.max(1, a.attempt ?? 1);
  // When the next attempt is due: a retry's scheduled time is that too.
  const due = Math.max(seconds(a.nextAttemptScheduleTime), seconds(a.scheduledTime));
  const backingOff = due > nowSeconds;
  const isPaused = a.paused === true || state === 'paused' || state === 'pause_requested';
  const settings = currentSettings(a);
  const changed = settings ? changedSettings(settings, given) : [];
  const queue = settings?.task_queue || given.task_queue;
  const queued = state === 'scheduled' && !isPaused && !backingOff && due > 0 ? { task_queue: queue, for_s: nowSeconds - due } : undefined;
  if (!isPaused && attempt === 1 && changed.length === 0) return queued ? { queued } : {};

  const activity: PhaseActivity = { id: a.activityId ?? '', state, attempt, maximum_attempts: Math.max(0, a.maximumAttempts ?? 0) };
  if (backingOff) activity.next_attempt_at = iso(due)!;
  const failure = a.lastFailure?.message;
  if (failure && attempt > 1) activity.last_failure = failure.length > FAILURE_CHARS ? `${failure.slice(0, FAILURE_CHARS)}…` : failure;
  if (isPaused) {
    const info = a.pauseInfo;
    const by = info?.manual?.identity || info?.rule?.identity;
    const reason = info?.manual?.reason || info?.rule?.reason;
    activity.paused = {
      at: iso(seconds(info?.pauseTime)),
      ...(by ? { by } : {}),
      ...(reason ? { reason } : {}),
      ...(info?.rule?.ruleId ? { rule: info.rule.ruleId } : {}),
    };
  }
  if (settings && changed.length > 0) {
    activity.settings = settings;
    activity.changed = changed;
  }
  return { activity, ...(queued ? { queued } : {}) };
}

/**
 * Whether a phase not yet taken waits for workers: a few seconds is dispatch when the queue has
 * none, longer when it has some (they may just be slow to take it).
 */
export function waitsForWorkers(forSeconds: number, workers: number): boolean {
  return forSeconds >= (workers === 0 ? QUEUED_NO_WORKER_S : QUEUED_BUSY_S);
}

/** One look: every pending phase activity with something to say, and whether any needs a close eye. */
export async function lookAtPhases(
  connection: ConnectionLike,
  namespace: string,
  request: PhaseWatchRequest,
): Promise<{ notes: Record<string, PhaseWatchNote>; pending: Set<string>; closely: boolean }> {
  const description = await connection.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: request.workflowId } });
  const now = Date.now() / 1000;
  const notes: Record<string, PhaseWatchNote> = {};
  const pending = new Set<string>();
  const queued = new Map<string, Array<{ id: string; for_s: number }>>();
  let closely = false;
  for (const a of description.pendingActivities ?? []) {
    const id = a.activityId ?? '';
    if (a.activityType?.name !== 'runPhase' || !id.startsWith('phase-')) continue;
    pending.add(id);
    if (a.state !== PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) closely = true;
    const seen = readActivity(a, request.settings.except[id] ?? request.settings.usual, now);
    if (seen.activity) notes[id] = { activity: seen.activity };
    if (seen.queued && seen.queued.for_s >= QUEUED_NO_WORKER_S) {
      queued.set(seen.queued.task_queue, [...(queued.get(seen.queued.task_queue) ?? []), { id, for_s: seen.queued.for_s }]);
    }
  }
  for (const [queue, waiting] of queued) {
    const workers = (await liveWorkers(connection, namespace, queue)).length;
    for (const { id, for_s } of waiting) if (waitsForWorkers(for_s, workers)) notes[id] = { ...notes[id], waiting: { task_queue: queue, workers } };
  }
  return { notes, pending, closely };
}

/** Whether what was seen differs from what the run knows (by fingerprint), for the activities still pending. */
export function differs(seen: Record<string, PhaseWatchNote>, known: Record<string, string>, pending: Set<string>): boolean {
  for (const id of pending) {
    const a = seen[id];
    const b = known[id];
    if (a === undefined && b === undefined) continue;
    if (a === undefined || b === undefined || fingerprint(a) !== b) return true;
  }
  return false;
}

export async function watchPhases(request: PhaseWatchRequest): Promise<PhaseWatch> {
  const ctx = Context.current();
  const namespace = ctx.info.workflowNamespace ?? 'default';
  const connection = ctx.client.connection;
  const until = Date.now() + WATCH_AT_MOST_MS;
  let idleLooks = 0;
  for (;;) {
    const { notes, pending, closely } = await lookAtPhases(connection, namespace, request);
    if (differs(notes, request.known, pending)) return { notes };
    // Nothing pending twice running: the run's phases have finished (or it has not heard yet).
    if (pending.size === 0 && ++idleLooks >= 2) return { notes };
    if (Date.now() >= until) return { notes };
    // Beat every second while waiting: a cancellation (an abort, which waits for this activity to end)
    // reaches an activity only in the answer to a heartbeat.
    for (let waited = 0, wait = closely ? WATCH_CLOSELY_MS : WATCH_CALMLY_MS; waited < wait; waited += 1_000) {
      ctx.heartbeat();
      await ctx.sleep(Math.min(1_000, wait - waited));
    }
  }
}
