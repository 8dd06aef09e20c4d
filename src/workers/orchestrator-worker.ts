/**
 * The orchestrator worker: runs `phasedRun` workflows on the task queue `baton`.
 * Light on resources; one or two per deployment is plenty.
 */
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createOrchestratorActivities } from '../activities/execution-context.js';
import { HEARTBEAT_THROTTLE } from '../activities/keep-alive.js';
import { ORCHESTRATOR_TASK_QUEUE } from '../core/plan/schema.js';
import { schemaCheckLimits } from '../runner/output-schema.js';
import { workflowCode } from './workflow-code.js';

export async function createOrchestratorWorker(connection: NativeConnection, namespace: string): Promise<Worker> {
  // A bad BATON_SCHEMA_CHECK_TIMEOUT_S or BATON_SCHEMA_CHECK_MAX_BYTES stops the worker now, not each check later.
  schemaCheckLimits();
  return Worker.create({
    connection,
    namespace,
    taskQueue: ORCHESTRATOR_TASK_QUEUE,
    ...workflowCode(),
    activities: createOrchestratorActivities(),
    // Each run with phases on workers holds one slot with its phase watch (watchPhases: it waits,
    // looking every few seconds, until something changes), and the rest are short file and RPC
    // work: many runs at once must not leave the exports and agents' handoffs without a slot.
    maxConcurrentActivityTaskExecutions: 1000,
    // The phase watch hears an abort in the answer to a heartbeat: send them promptly.
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
  });
}
