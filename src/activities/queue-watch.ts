/**
 * For the orchestrator's "no silent waiting": which of the run's phase activities a worker has
 * picked up, and how many workers poll each queue. A phase still only scheduled on a queue that
 * no worker polls is waiting for workers that are not there, and the run says so.
 */
import { Context } from '@temporalio/activity';
import proto from '@temporalio/proto';
import { describeQueue } from '../client/queues.js';
import type { QueueWatch } from './types.js';

const { PendingActivityState } = proto.temporal.api.enums.v1;

export async function watchQueues(workflowId: string, taskQueues: string[]): Promise<QueueWatch> {
  const ctx = Context.current();
  const namespace = ctx.info.workflowNamespace ?? 'default';
  const connection = ctx.client.connection;
  const description = await connection.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId } });
  const started: string[] = [];
  const scheduled: string[] = [];
  for (const a of description.pendingActivities ?? []) {
    if (!a.activityId) continue;
    if (a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) started.push(a.activityId);
    else if (a.state === PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED) scheduled.push(a.activityId);
  }
  const workers: Record<string, number> = {};
  for (const queue of taskQueues) workers[queue] = (await describeQueue(connection, namespace, queue)).workers.length;
  return { started, scheduled, workers };
}
