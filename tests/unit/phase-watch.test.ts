/**
 * The phase watch and the queues' worker counts, without a server: what a pending activity or a
 * worker record says, what the run records and shows of it, and what the watch's request costs.
 */
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { changedSettings, differs, readActivity, waitsForWorkers } from '../../src/activities/phase-watch.js';
import type { PhaseWatchNote } from '../../src/activities/types.js';
import { recommend } from '../../src/client/queues.js';
import { fromHeartbeat, heartbeatDeadline } from '../../src/client/workers.js';
import { fingerprint } from '../../src/core/api/fingerprint.js';
import { phaseCondition, phaseRemarks } from '../../src/core/api/phase-remarks.js';
import type { ActivitySettings } from '../../src/core/api/status.js';
import { checkRun } from '../../src/core/plan/validate.js';
import { renderDetails } from '../../src/core/workflows/details.js';
import { watchRequest } from '../../src/core/workflows/phase-watch.js';
import { overview, runStatus } from '../../src/core/workflows/projections.js';
import { RunBook } from '../../src/core/workflows/run-book.js';
import { renderStatusTable, stateChanges } from '../../src/cli/format.js';

const { PendingActivityState, WorkerStatus } = proto.temporal.api.enums.v1;
const NOW = 1_800_000_000;
// Timestamps and durations as the SDK decodes them (seconds are a Long there; a number reads the same).
const at = (s: number) => ({ seconds: s, nanos: 0 }) as unknown as proto.google.protobuf.ITimestamp;

const given: ActivitySettings = {
  task_queue: 'baton-default',
  start_to_close_timeout_s: 3600,
  schedule_to_close_timeout_s: 0,
  schedule_to_start_timeout_s: 0,
  heartbeat_timeout_s: 30,
  maximum_attempts: 9,
  initial_interval_s: 1,
  backoff_coefficient: 2,
  maximum_interval_s: 60,
};

const options = (over: Partial<{ queue: string; startToClose: number; maxAttempts: number; scheduleToClose: number }> = {}) => ({
  taskQueue: { name: over.queue ?? 'baton-default' },
  scheduleToCloseTimeout: at(over.scheduleToClose ?? 0),
  scheduleToStartTimeout: at(0),
  startToCloseTimeout: at(over.startToClose ?? 3600),
  heartbeatTimeout: at(30),
  retryPolicy: { initialInterval: at(1), backoffCoefficient: 2, maximumInterval: at(60), maximumAttempts: over.maxAttempts ?? 9 },
});

describe('what the watch makes of a pending phase activity', () => {
  it('has nothing to say of a first attempt that runs', () => {
    expect(readActivity({ activityId: 'phase-0-g1-d1', state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED, attempt: 1, maximumAttempts: 9, activityOptions: options() }, given, NOW)).toEqual({});
  });

  it('times a first attempt not yet taken from its queue; it waits for workers after 3 s with none, 10 s with some', () => {
    const seen = readActivity({ activityId: 'phase-0-g1-d1', state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED, attempt: 1, maximumAttempts: 9, scheduledTime: at(NOW - 4), activityOptions: options({ queue: 'baton-gpu' }) }, { ...given, task_queue: 'baton-gpu' }, NOW);
    expect(seen).toEqual({ queued: { task_queue: 'baton-gpu', for_s: 4 } });
    expect(waitsForWorkers(4, 0)).toBe(true);
    expect(waitsForWorkers(2, 0)).toBe(false);
    expect(waitsForWorkers(4, 2)).toBe(false);
    expect(waitsForWorkers(10, 2)).toBe(true);
  });

  it('reads a pause (who, why, when), the attempt, the last failure and the backoff; a paused or backing-off phase is not waiting for workers', () => {
    const seen = readActivity(
      {
        activityId: 'phase-7-g1-d1',
        state: PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED,
        paused: true,
        attempt: 5,
        maximumAttempts: 9,
        scheduledTime: at(NOW - 100),
        nextAttemptScheduleTime: at(NOW + 8),
        lastFailure: { message: 'phase 7 (T) exited with code 1: not yet' },
        pauseInfo: { pauseTime: at(NOW - 2), manual: { identity: 'alice', reason: 'maintenance' } },
        activityOptions: options(),
      },
      given,
      NOW,
    );
    expect(seen).toEqual({
      activity: {
        id: 'phase-7-g1-d1',
        state: 'paused',
        attempt: 5,
        maximum_attempts: 9,
        next_attempt_at: new Date((NOW + 8) * 1000).toISOString(),
        last_failure: 'phase 7 (T) exited with code 1: not yet',
        paused: { at: new Date((NOW - 2) * 1000).toISOString(), by: 'alice', reason: 'maintenance' },
      },
    });
  });

  it('takes a retry scheduled in the future as its next attempt (the server may give no other time)', () => {
    const seen = readActivity({ activityId: 'phase-7-g1-d1', state: PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED, paused: true, attempt: 5, maximumAttempts: 9, scheduledTime: at(NOW + 6), activityOptions: options() }, given, NOW);
    expect(seen.activity).toMatchObject({ state: 'paused', next_attempt_at: new Date((NOW + 6) * 1000).toISOString() });
    expect(seen.queued).toBeUndefined();
  });

  it('reports settings changed since the run scheduled the activity, and which', () => {
    expect(changedSettings({ ...given, start_to_close_timeout_s: 7200, maximum_attempts: 20 }, given)).toEqual(['start_to_close_timeout_s', 'maximum_attempts']);
    // The run leaves schedule-to-close unset: any value is a change; the server's 0 is not.
    expect(changedSettings({ ...given, schedule_to_close_timeout_s: 600 }, given)).toEqual(['schedule_to_close_timeout_s']);
    expect(changedSettings(given, given)).toEqual([]);
    const seen = readActivity({ activityId: 'phase-0-g1-d1', state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED, attempt: 1, maximumAttempts: 9, activityOptions: options({ startToClose: 7200 }) }, given, NOW);
    expect(seen.activity).toMatchObject({ state: 'started', changed: ['start_to_close_timeout_s'], settings: { ...given, start_to_close_timeout_s: 7200 } });
  });

  it('answers only when what it sees differs from what the run knows, for activities still pending', () => {
    const note: PhaseWatchNote = { waiting: { task_queue: 'baton-gpu', workers: 0 } };
    const pending = new Set(['a']);
    expect(differs({ a: note }, { a: fingerprint(note) }, pending)).toBe(false);
    expect(differs({ a: { ...note, waiting: { task_queue: 'baton-gpu', workers: 1 } } }, { a: fingerprint(note) }, pending)).toBe(true);
    expect(differs({}, { a: fingerprint(note) }, pending)).toBe(true); // picked up: the note goes
    expect(differs({ a: note }, {}, pending)).toBe(true);
    expect(differs({}, { gone: fingerprint(note) }, pending)).toBe(false); // finished: the run clears it itself
  });
});

describe('worker records', () => {
  const beat = (over: Partial<proto.temporal.api.worker.v1.IWorkerHeartbeat>) => ({
    workerInstanceKey: 'k',
    workerIdentity: '42@box',
    hostInfo: { hostName: 'box' },
    status: WorkerStatus.WORKER_STATUS_RUNNING,
    startTime: at(NOW - 100),
    heartbeatTime: at(NOW - 1),
    elapsedSinceLastHeartbeat: at(5),
    activityTaskSlotsInfo: { currentUsedSlots: 1, currentAvailableSlots: 0 },
    ...over,
  });

  it('counts a busy worker (it does not poll, but it heartbeats)', () => {
    expect(fromHeartbeat(beat({}), 'activity', NOW)).toMatchObject({ identity: '42@box', status: 'running', live: true, slots_used: 1, slots_free: 0, heartbeat_age_s: 1 });
  });

  it('counts a worker out once it has missed two of its heartbeats', () => {
    expect(heartbeatDeadline(beat({}))).toBe(12);
    expect(fromHeartbeat(beat({ heartbeatTime: at(NOW - 11) }), 'activity', NOW).live).toBe(true);
    expect(fromHeartbeat(beat({ heartbeatTime: at(NOW - 13) }), 'activity', NOW)).toMatchObject({ status: 'gone', live: false });
    // A first heartbeat (no interval yet) is judged by the time since the worker started; an SDK on the default minute, by its minute.
    expect(heartbeatDeadline(beat({ elapsedSinceLastHeartbeat: null, startTime: at(NOW - 5), heartbeatTime: at(NOW) }))).toBe(12);
    expect(fromHeartbeat(beat({ elapsedSinceLastHeartbeat: at(60), heartbeatTime: at(NOW - 90) }), 'activity', NOW).live).toBe(true);
  });

  it('does not count a worker shutting down or shut down', () => {
    expect(fromHeartbeat(beat({ status: WorkerStatus.WORKER_STATUS_SHUTTING_DOWN }), 'activity', NOW)).toMatchObject({ status: 'shutting_down', live: false });
    expect(fromHeartbeat(beat({ status: WorkerStatus.WORKER_STATUS_SHUTDOWN, heartbeatTime: at(NOW - 600) }), 'activity', NOW)).toMatchObject({ status: 'shutdown', live: false });
  });

  it('recommends from the live workers, busy ones included', () => {
    const base = { task_queue: 'baton-gpu', resource_class: 'gpu', backlog_age_s: 240, tasks_add_rate: 0.05, tasks_dispatch_rate: 0.01 };
    expect(recommend({ ...base, workers: ['a'], busy_workers: 1, backlog_count: 12 })).toBe('baton-gpu: 12 phases waiting for 4m with 1 worker, busy: add workers');
    expect(recommend({ ...base, workers: [], busy_workers: 0, backlog_count: 7 })).toBe('baton-gpu: 7 phases waiting for 4m with no worker: start `baton worker --class gpu`');
    expect(recommend({ ...base, workers: ['a', 'b'], busy_workers: 1, backlog_count: 0 })).toBe('baton-gpu: ok, 2 workers, 1 busy, nothing waiting');
  });
});

describe('what the run records and shows of it', () => {
  function running() {
    const { plan, config } = checkRun(
      { name: 'w', phases: [{ id: 'train', command: ['t'], resource_class: 'gpu', retries: 8 }, { id: 'etl', command: ['e'], timeout_s: 60 }] },
      {},
    );
    const book = new RunBook('run-1', plan, config, new Date(0));
    book.readyPhases();
    for (const key of ['train', 'etl']) {
      book.phase(key).start(new Date(1));
      book.record(key).dispatches = 1;
    }
    return book;
  }

  it('asks the watch with the usual settings once, and the phases that differ; the attempts include those kept for interruptions', () => {
    const book = running();
    const request = watchRequest('run-1', ['train', 'etl'].map((k) => book.phase(k)), {}, true);
    expect(request.known).toEqual({});
    const all = [request.settings.usual, ...Object.values(request.settings.except)];
    expect(all).toHaveLength(2);
    // retries + 1 + worker_loss_retries (3), as runInline schedules them since baton-interruptions-1.
    expect(all).toContainEqual({ ...given, task_queue: 'baton-gpu', maximum_attempts: 12 });
    expect(all).toContainEqual({ ...given, start_to_close_timeout_s: 60, maximum_attempts: 4 });
    expect(watchRequest('run-1', [book.phase('etl')], {}, false).settings.usual.maximum_attempts).toBe(1);
  });

  it('records waiting_for_workers and the paused activity, counts begun attempts, and clears both when the watch has nothing to say', () => {
    const book = running();
    book.noteWatch({
      'phase-train-g1-d1': { waiting: { task_queue: 'baton-gpu', workers: 0 } },
      'phase-etl-g1-d1': { activity: { id: 'phase-etl-g1-d1', state: 'paused', attempt: 5, maximum_attempts: 9, paused: { at: null, by: 'alice', reason: 'maintenance' }, last_failure: 'boom' } },
    });
    const status = runStatus(book, null);
    expect(status.phases.train).toMatchObject({ attempts: 0, waiting_for_workers: 'no worker polls baton-gpu: start `baton worker --class gpu`' });
    expect(status.phases.etl).toMatchObject({ attempts: 4, activity: { state: 'paused', attempt: 5 } });

    expect(phaseCondition(status.phases.train!)).toBe('waiting for workers');
    expect(phaseCondition(status.phases.etl!)).toBe('paused in Temporal');
    expect(phaseRemarks(status.phases.etl!, 'run-1').map((r) => r.text)).toEqual([
      'is paused in Temporal (by alice, "maintenance"), at attempt 5 of 9: no attempt starts until it is unpaused (`temporal activity unpause --workflow-id run-1 --activity-id phase-etl-g1-d1`, or the Web UI\'s Pending Activities)',
      'is on attempt 5 of 9; the last failed: boom',
    ]);

    // As the UI shows it: the Markdown's escapes (names and messages are text, never Markdown) resolved.
    const details = renderDetails(overview(book), book, 'run-1').replace(/\\([!-/:-@[-`{-~])/g, '$1');
    expect(details).toContain('| train | train | running (waiting for workers) | 0 |  |  | baton-gpu |  |');
    expect(details).toContain('Phase train waits for workers: no worker polls baton-gpu: start `baton worker --class gpu`.');
    expect(details).toContain('Phase etl is paused in Temporal (by alice, "maintenance")');

    const table = renderStatusTable(status);
    expect(table).toMatch(/train +train +running \(waiting for workers\) +0 +baton-gpu/);
    expect(table).toContain('  phase train waits for workers: no worker polls baton-gpu');
    expect(table).toContain('  phase etl is paused in Temporal (by alice, "maintenance")');

    book.noteWatch({});
    const after = runStatus(book, null);
    expect(after.phases.train!.waiting_for_workers).toBeUndefined();
    expect(after.phases.etl!.activity).toBeUndefined();
    expect(after.phases.etl!.attempts).toBe(0);
    expect(stateChanges(status, after)).toEqual(['phase train (train) no longer waits for workers', 'phase etl (etl) is no longer paused in Temporal']);
  });
});
