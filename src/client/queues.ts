/**
 * What each task queue looks like from the server: its workers (from Temporal's worker records,
 * see workers.ts), backlog, rates, and a plain recommendation. `baton queues` prints it;
 * autoscalers read `--json`; the orchestrator's watch uses the worker counts to say when a phase
 * waits for workers that are not there.
 */
import type { ConnectionLike } from '@temporalio/client';
import proto from '@temporalio/proto';
import { queueWorkers, type QueueWorkers, type WorkerRecord } from './workers.js';

export { LIVE_POLLER_SECONDS, WORKER_HEARTBEAT_SECONDS, type WorkerRecord } from './workers.js';

const { TaskQueueType } = proto.temporal.api.enums.v1;

export interface QueueReport {
  task_queue: string;
  resource_class: string | null;
  /** The identities of the live workers: running and heartbeating (busy ones included), one entry per worker. */
  workers: string[];
  /** Of those, how many have every slot in use. */
  busy_workers: number;
  /** Where the workers come from: `worker heartbeats` (Temporal's worker records), or `pollers` where the server keeps none. */
  workers_from: QueueWorkers['source'];
  /** Every worker the server knows on this queue, live or not (a killed worker shows as `gone` until the server forgets it). */
  worker_records: WorkerRecord[];
  backlog_count: number;
  backlog_age_s: number;
  tasks_add_rate: number;
  tasks_dispatch_rate: number;
  recommendation: string;
}

function seconds(d: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(d?.seconds ?? 0) + (d?.nanos ?? 0) / 1e9;
}

export async function describeQueue(connection: ConnectionLike, namespace: string, taskQueue: string, type: 'activity' | 'workflow' = 'activity'): Promise<QueueReport> {
  const response = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: type === 'activity' ? TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY : TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    reportStats: true,
  });
  const found = await queueWorkers(connection, namespace, taskQueue, type, response.pollers ?? []);
  const live = found.records.filter((r) => r.live);
  const stats = response.stats;
  const report: QueueReport = {
    task_queue: taskQueue,
    resource_class: taskQueue.startsWith('baton-') ? taskQueue.slice('baton-'.length) : null,
    workers: live.map((r) => r.identity),
    busy_workers: live.filter((r) => r.slots_free === 0 && (r.slots_used ?? 0) > 0).length,
    workers_from: found.source,
    worker_records: found.records,
    backlog_count: Number(stats?.approximateBacklogCount ?? 0),
    backlog_age_s: seconds(stats?.approximateBacklogAge),
    tasks_add_rate: stats?.tasksAddRate ?? 0,
    tasks_dispatch_rate: stats?.tasksDispatchRate ?? 0,
    recommendation: '',
  };
  report.recommendation = recommend(report);
  return report;
}

function age(s: number): string {
  return s < 90 ? `${Math.round(s)}s` : s < 5400 ? `${Math.round(s / 60)}m` : `${(s / 3600).toFixed(1)}h`;
}

function workers(n: number, busy: number): string {
  const count = `${n} worker${n === 1 ? '' : 's'}`;
  return busy === 0 ? count : busy === n ? `${count}, ${n === 1 ? 'busy' : 'all busy'}` : `${count}, ${busy} busy`;
}

export function recommend(r: Pick<QueueReport, 'task_queue' | 'resource_class' | 'workers' | 'busy_workers' | 'backlog_count' | 'backlog_age_s' | 'tasks_add_rate' | 'tasks_dispatch_rate'>): string {
  const waiting = `${r.backlog_count} ${r.task_queue === 'baton' ? 'tasks' : 'phases'} waiting for ${age(r.backlog_age_s)}`;
  const start = r.resource_class ? `baton worker --class ${r.resource_class}` : 'baton worker --orchestrator';
  const n = r.workers.length;
  if (r.backlog_count > 0 && n === 0) return `${r.task_queue}: ${waiting} with no worker: start \`${start}\``;
  if (r.backlog_count > 0 && (r.backlog_age_s > 60 || r.tasks_add_rate > r.tasks_dispatch_rate * 1.2)) {
    return `${r.task_queue}: ${waiting} with ${workers(n, r.busy_workers)}: add workers`;
  }
  if (n === 0) return `${r.task_queue}: idle, no worker (none needed until a phase of this class is ready)`;
  return `${r.task_queue}: ok, ${workers(n, r.busy_workers)}${r.backlog_count > 0 ? `, ${waiting}` : ', nothing waiting'}`;
}
