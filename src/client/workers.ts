/**
 * Which workers a task queue has, from Temporal's own worker records (what `temporal worker list`
 * shows): each worker process heartbeats its status and slots to the server every few seconds
 * (Baton's workers every WORKER_HEARTBEAT_SECONDS), so a worker killed with SIGKILL stops counting
 * within seconds, and one busy to capacity, which does not poll, still counts. DescribeTaskQueue's
 * pollers fill in workers that have sent no record yet (just started, or an SDK without worker
 * heartbeats); when the server keeps no worker records at all, pollers are all there is.
 */
import type { ConnectionLike } from '@temporalio/client';
import proto from '@temporalio/proto';

const { TaskQueueType, WorkerStatus } = proto.temporal.api.enums.v1;
type WorkerHeartbeat = proto.temporal.api.worker.v1.IWorkerHeartbeat;
type Poller = proto.temporal.api.taskqueue.v1.IPollerInfo;

/** How often Baton's workers send their worker heartbeat (the SDK's default is 60 s). */
export const WORKER_HEARTBEAT_SECONDS = 5;

/** A worker long-polls for about a minute at a time; a poller not seen for longer is gone. */
export const LIVE_POLLER_SECONDS = 90;

export interface WorkerRecord {
  identity: string;
  /** The worker's key in `temporal worker describe --worker-instance-key`; null for a poller without a record. */
  instance_key: string | null;
  /** As the worker last reported it; `gone` when its heartbeats stopped (killed, or cut off). */
  status: 'running' | 'shutting_down' | 'shutdown' | 'gone' | 'polling';
  /** Counted among the queue's workers: running and heartbeating (or polling, without a record). */
  live: boolean;
  host: string | null;
  /** Task slots of this queue's kind (activity, or workflow for `baton`) in use and free; null when unknown. */
  slots_used: number | null;
  slots_free: number | null;
  last_heartbeat: string | null;
  heartbeat_age_s: number | null;
  source: 'worker heartbeat' | 'poller';
}

export interface QueueWorkers {
  /** `worker heartbeats` when the server keeps worker records (pollers may add workers without one), else `pollers`. */
  source: 'worker heartbeats' | 'pollers';
  /** Every worker the server knows on the queue, live or not, live ones first. */
  records: WorkerRecord[];
}

function seconds(d: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(d?.seconds ?? 0) + (d?.nanos ?? 0) / 1e9;
}

function iso(epochSeconds: number): string | null {
  return epochSeconds > 0 ? new Date(epochSeconds * 1000).toISOString() : null;
}

/**
 * A worker is gone once it has missed two heartbeats (and a little more, for the network). The
 * interval is the worker's own, from its records: a worker of another SDK may heartbeat once a minute.
 */
export function heartbeatDeadline(hb: WorkerHeartbeat): number {
  const elapsed = seconds(hb.elapsedSinceLastHeartbeat);
  const sinceStart = seconds(hb.heartbeatTime) - seconds(hb.startTime);
  const interval = Math.min(60, Math.max(1, elapsed > 0 ? elapsed : sinceStart > 0 ? sinceStart : 60));
  return 2 * interval + 2;
}

const STATUS: Record<number, WorkerRecord['status']> = {
  [WorkerStatus.WORKER_STATUS_RUNNING]: 'running',
  [WorkerStatus.WORKER_STATUS_SHUTTING_DOWN]: 'shutting_down',
  [WorkerStatus.WORKER_STATUS_SHUTDOWN]: 'shutdown',
};

export function fromHeartbeat(hb: WorkerHeartbeat, kind: 'activity' | 'workflow', nowSeconds: number): WorkerRecord {
  const beat = seconds(hb.heartbeatTime);
  const age = beat > 0 ? Math.max(0, nowSeconds - beat) : null;
  const reported = STATUS[hb.status ?? 0] ?? 'running';
  const stale = age === null || age > heartbeatDeadline(hb);
  const status = reported === 'shutdown' || !stale ? reported : 'gone';
  const slots = kind === 'activity' ? hb.activityTaskSlotsInfo : hb.workflowTaskSlotsInfo;
  return {
    identity: hb.workerIdentity || '?',
    instance_key: hb.workerInstanceKey || null,
    status,
    live: status === 'running',
    host: hb.hostInfo?.hostName || null,
    slots_used: slots ? (slots.currentUsedSlots ?? 0) : null,
    slots_free: slots ? (slots.currentAvailableSlots ?? 0) : null,
    last_heartbeat: iso(beat),
    heartbeat_age_s: age === null ? null : Math.round(age * 10) / 10,
    source: 'worker heartbeat',
  };
}

/** The server's worker records for one task queue; null when it keeps none (an older server, or records turned off). */
async function heartbeatsOf(connection: ConnectionLike, namespace: string, taskQueue: string): Promise<WorkerHeartbeat[] | null> {
  const found: WorkerHeartbeat[] = [];
  let nextPageToken: Uint8Array | undefined;
  try {
    do {
      const page = await connection.workflowService.listWorkers({ namespace, pageSize: 200, query: `TaskQueue = ${JSON.stringify(taskQueue)}`, ...(nextPageToken ? { nextPageToken } : {}) });
      if ((page.workersInfo ?? []).length > 0) {
        for (const info of page.workersInfo) if (info.workerHeartbeat) found.push(info.workerHeartbeat);
      } else {
        // Servers that list workers without their heartbeats: describe each.
        for (const w of page.workers ?? []) {
          if (!w.workerInstanceKey) continue;
          const { workerInfo } = await connection.workflowService.describeWorker({ namespace, workerInstanceKey: w.workerInstanceKey });
          if (workerInfo?.workerHeartbeat) found.push(workerInfo.workerHeartbeat);
        }
      }
      nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    } while (nextPageToken);
  } catch (err) {
    // UNIMPLEMENTED (a server without worker records), or a role that may not list workers: fall back to pollers.
    const code = (err as { code?: number }).code;
    if (code === 12 || code === 7 || code === 9) return null;
    throw err;
  }
  return found;
}

/**
 * The workers on a task queue: from their records, plus pollers that have none (a worker seen
 * polling before its first heartbeat arrived). A poller whose identity has a record is judged by
 * the record: its last poll may be a minute old, its heartbeat is seconds old.
 */
export async function queueWorkers(
  connection: ConnectionLike,
  namespace: string,
  taskQueue: string,
  kind: 'activity' | 'workflow',
  pollers: Poller[],
): Promise<QueueWorkers> {
  const now = Date.now() / 1000;
  const heartbeats = await heartbeatsOf(connection, namespace, taskQueue);
  const records = (heartbeats ?? []).map((hb) => fromHeartbeat(hb, kind, now));
  const known = new Set(records.map((r) => r.identity));
  const polling = new Set<string>();
  for (const p of pollers) {
    const identity = p.identity ?? '?';
    const lastPoll = seconds(p.lastAccessTime);
    if (known.has(identity) || polling.has(identity) || now - lastPoll >= LIVE_POLLER_SECONDS) continue;
    polling.add(identity);
    records.push({
      identity,
      instance_key: null,
      status: 'polling',
      live: true,
      host: null,
      slots_used: null,
      slots_free: null,
      last_heartbeat: null,
      heartbeat_age_s: null,
      source: 'poller',
    });
  }
  records.sort((a, b) => Number(b.live) - Number(a.live));
  return { source: heartbeats === null ? 'pollers' : 'worker heartbeats', records };
}

/** The live workers on a task queue (for the run's watch: no backlog statistics needed). */
export async function liveWorkers(connection: ConnectionLike, namespace: string, taskQueue: string, kind: 'activity' | 'workflow' = 'activity'): Promise<WorkerRecord[]> {
  const { pollers } = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: kind === 'activity' ? TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY : TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (await queueWorkers(connection, namespace, taskQueue, kind, pollers ?? [])).records.filter((r) => r.live);
}
