/**
 * What each task queue looks like from the server: workers polling, backlog, rates, and a plain
 * recommendation. `baton queues` prints it; autoscalers read `--json`; the orchestrator uses
 * the poller counts to say when a phase waits for workers that are not there.
 */
import type { ConnectionLike } from '@temporalio/client';
import proto from '@temporalio/proto';

const { TaskQueueType } = proto.temporal.api.enums.v1;

/** A worker long-polls for about a minute at a time; one not seen for longer is gone (or busy to capacity). */
export const LIVE_POLLER_SECONDS = 90;

export interface QueueReport {
  task_queue: string;
  resource_class: string | null;
  /** Distinct worker identities polling recently. */
  workers: string[];
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
  const now = Date.now() / 1000;
  const workers = [...new Set((response.pollers ?? []).filter((p) => now - seconds(p.lastAccessTime) < LIVE_POLLER_SECONDS).map((p) => p.identity ?? '?'))];
  const stats = response.stats;
  const report: QueueReport = {
    task_queue: taskQueue,
    resource_class: taskQueue.startsWith('baton-') ? taskQueue.slice('baton-'.length) : null,
    workers,
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

export function recommend(r: QueueReport): string {
  const waiting = `${r.backlog_count} ${r.task_queue === 'baton' ? 'tasks' : 'phases'} waiting for ${age(r.backlog_age_s)}`;
  const start = r.resource_class ? `baton worker --class ${r.resource_class}` : 'baton worker --orchestrator';
  if (r.backlog_count > 0 && r.workers.length === 0) return `${r.task_queue}: ${waiting} with no worker: start \`${start}\``;
  if (r.backlog_count > 0 && (r.backlog_age_s > 60 || r.tasks_add_rate > r.tasks_dispatch_rate * 1.2)) {
    return `${r.task_queue}: ${waiting} with ${r.workers.length} worker${r.workers.length === 1 ? '' : 's'}: add workers`;
  }
  if (r.workers.length === 0) return `${r.task_queue}: idle, no worker (none needed until a phase of this class is ready)`;
  return `${r.task_queue}: ok, ${r.workers.length} worker${r.workers.length === 1 ? '' : 's'}${r.backlog_count > 0 ? `, ${waiting}` : ', nothing waiting'}`;
}
