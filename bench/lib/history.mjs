// What a run's Temporal history says about where its time and bytes go.
import proto from '@temporalio/proto';

const { History } = proto.temporal.api.history.v1;
const { EventType } = proto.temporal.api.enums.v1;

/**
 * The whole history, in pages small enough for gRPC's message limit (Baton's histories carry
 * events of hundreds of KB). Same result as `client.workflow.getHandle(id).fetchHistory()`.
 */
export async function fetchHistory(client, workflowId, pageSize = 50) {
  const events = [];
  let nextPageToken;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      maximumPageSize: pageSize,
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return History.create({ events });
}

export function historyBytes(history) {
  return History.encode(history).finish().length;
}

function ms(ts) {
  if (!ts) return NaN;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : Number(ts.seconds?.toString() ?? 0);
  return seconds * 1000 + (ts.nanos ?? 0) / 1e6;
}

function typeName(event) {
  return (EventType[event.eventType] ?? String(event.eventType)).replace(/^EVENT_TYPE_/, '');
}

function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Counts and timings from one history:
 * - events by type, workflow tasks, activities by type, bytes;
 * - for the activity type that does the work (`runPhase` or `noop`): median scheduled→started
 *   (queue wait), started→completed (execution), and completed→next scheduled (the
 *   orchestration gap a chain pays between two steps);
 * - bytes of activity inputs and results by activity type, and of other payload-carrying events.
 */
export function analyzeHistory(history, workActivity) {
  const events = history.events ?? [];
  const byType = {};
  const scheduled = new Map(); // scheduledEventId -> { type, at, inputBytes }
  const work = []; // { scheduledAt, startedAt, completedAt }
  const activities = {}; // type -> { count, eventBytes, durations }
  const recordsByType = {}; // type -> [{ scheduledAt, startedAt, completedAt }]
  const bytesByEventType = {};
  const wftRun = []; // workflow task started -> completed: the workflow code's own time (and the worker's round trip)
  let wftStartedAt;
  for (const e of events) {
    const t = typeName(e);
    byType[t] = (byType[t] ?? 0) + 1;
    const size = proto.temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
    bytesByEventType[t] = (bytesByEventType[t] ?? 0) + size;
    const id = Number(e.eventId?.toString());
    if (e.workflowTaskStartedEventAttributes) wftStartedAt = ms(e.eventTime);
    else if (e.workflowTaskCompletedEventAttributes && wftStartedAt !== undefined) wftRun.push(ms(e.eventTime) - wftStartedAt);
    if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      const type = a.activityType?.name ?? '?';
      const record = { scheduledAt: ms(e.eventTime) };
      scheduled.set(id, { type, at: ms(e.eventTime), record });
      (recordsByType[type] ??= []).push(record);
      const s = (activities[type] ??= { count: 0, eventBytes: 0, durations: [] });
      s.count += 1;
      s.eventBytes += size;
    } else if (e.activityTaskStartedEventAttributes) {
      const s = scheduled.get(Number(e.activityTaskStartedEventAttributes.scheduledEventId?.toString()));
      if (s) {
        s.record.startedAt = ms(e.eventTime);
        activities[s.type].eventBytes += size;
      }
    } else if (e.activityTaskCompletedEventAttributes) {
      const s = scheduled.get(Number(e.activityTaskCompletedEventAttributes.scheduledEventId?.toString()));
      if (s) {
        s.record.completedAt = ms(e.eventTime);
        activities[s.type].eventBytes += size;
        activities[s.type].durations.push(s.record.completedAt - s.record.scheduledAt);
        if (s.type === workActivity) work.push(s.record);
      }
    }
  }
  work.sort((a, b) => a.scheduledAt - b.scheduledAt);
  const queueWait = work.map((r) => r.startedAt - r.scheduledAt);
  const execution = work.map((r) => r.completedAt - r.startedAt);
  const gaps = [];
  for (let i = 1; i < work.length; i++) gaps.push(work[i].scheduledAt - work[i - 1].completedAt);
  for (const [type, a] of Object.entries(activities)) {
    // scheduled -> completed, the whole round trip of one activity as history records it
    a.medianRoundTripMs = median(a.durations);
    a.totalRoundTripMs = a.durations.reduce((x, y) => x + y, 0);
    delete a.durations;
    // From the first scheduled to the last completed; for activities run one after another, the
    // gap between one completing and the next being scheduled is a workflow task's round trip.
    const recs = recordsByType[type].filter((r) => r.completedAt !== undefined).sort((x, y) => x.scheduledAt - y.scheduledAt);
    if (recs.length > 0) a.spanMs = recs.at(-1).completedAt - recs[0].scheduledAt;
    const links = [];
    for (let i = 1; i < recs.length; i++) if (recs[i].scheduledAt >= recs[i - 1].completedAt) links.push(recs[i].scheduledAt - recs[i - 1].completedAt);
    a.medianLinkGapMs = median(links);
  }
  const steps = chainSteps(work, recordsByType.writeExecutionContext ?? []);
  const first = ms(events[0]?.eventTime);
  const last = ms(events.at(-1)?.eventTime);
  return {
    events: events.length,
    bytes: historyBytes(history),
    byType,
    bytesByEventType,
    activities,
    workflowTasks: byType.WORKFLOW_TASK_COMPLETED ?? 0,
    // Tasks the server failed (force-closed when too many events buffered while one was open) or that timed out.
    failedWorkflowTasks: (byType.WORKFLOW_TASK_FAILED ?? 0) + (byType.WORKFLOW_TASK_TIMED_OUT ?? 0),
    medianWorkflowTaskMs: median(wftRun),
    totalWorkflowTaskMs: wftRun.reduce((a, b) => a + b, 0),
    workCount: work.length,
    historySpanMs: last - first,
    medianQueueWaitMs: median(queueWait),
    medianExecutionMs: median(execution),
    medianGapMs: median(gaps),
    chainSteps: steps,
  };
}

/**
 * In a chain, what happens between one step completing and the next being scheduled, when an
 * export activity runs in between (Baton): step completed -> export scheduled (a workflow task),
 * export scheduled -> completed, export completed -> next step scheduled (another workflow task).
 */
function chainSteps(work, exports) {
  const toExport = [];
  const exportTrip = [];
  const fromExport = [];
  for (let i = 1; i < work.length; i++) {
    const done = work[i - 1].completedAt;
    const next = work[i].scheduledAt;
    const e = exports.find((x) => x.scheduledAt >= done && x.completedAt <= next);
    if (!e) continue;
    toExport.push(e.scheduledAt - done);
    exportTrip.push(e.completedAt - e.scheduledAt);
    fromExport.push(next - e.completedAt);
  }
  if (toExport.length === 0) return null;
  return { pairs: toExport.length, medianToExportMs: median(toExport), medianExportMs: median(exportTrip), medianFromExportMs: median(fromExport) };
}
