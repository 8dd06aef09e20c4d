/**
 * For the orchestrator's "no silent waiting" in runs from before baton-phase-watch-1: which of the
 * run's phase activities a worker has picked up, and how many live workers each queue has. A
 * phase still only scheduled on a queue with no worker is waiting for workers that are not there,
 * and the run says so. (Newer runs use watchPhases, phase-watch.ts.)
 */
import { Context } from '@temporalio/activity';
import proto from '@temporalio/proto';
import { liveWorkers } from '../client/workers.js';
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
  for (const queue of taskQueues) workers[queue] = (await liveWorkers(connection, namespace, queue)).length;
  return { started, scheduled, workers };
}
