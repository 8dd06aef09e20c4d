/**
 * The orchestrator worker: runs `phasedRun` workflows on the task queue `baton`.
 * Light on resources; one or two per deployment is plenty.
 */
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createOrchestratorActivities } from '../activities/execution-context.js';
import { ORCHESTRATOR_TASK_QUEUE } from '../core/plan/schema.js';
import { workflowCode } from './workflow-code.js';

export async function createOrchestratorWorker(connection: NativeConnection, namespace: string): Promise<Worker> {
  return Worker.create({
    connection,
    namespace,
    taskQueue: ORCHESTRATOR_TASK_QUEUE,
    ...workflowCode(),
    activities: createOrchestratorActivities(),
  });
}
