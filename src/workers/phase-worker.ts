/**
 * A phase worker for one resource class: runs phases from the task queue `baton-<class>`.
 * Scale a class by running more of these, on machines that have its resources.
 */
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { PhaseHandlers } from '../runner/handlers.js';
import { HEARTBEAT_THROTTLE } from '../activities/keep-alive.js';
import { createPhaseActivities } from '../activities/run-phase.js';
import { taskQueueFor } from '../core/plan/schema.js';

export interface PhaseWorkerOptions {
  resourceClass: string;
  concurrency: number;
  handlers?: PhaseHandlers;
  /** How long phases in flight may take to finish after SIGTERM before they are cancelled. */
  shutdownGraceSeconds?: number;
}

export async function createPhaseWorker(connection: NativeConnection, namespace: string, opts: PhaseWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection,
    namespace,
    taskQueue: taskQueueFor(opts.resourceClass),
    activities: createPhaseActivities(opts.handlers),
    maxConcurrentActivityTaskExecutions: opts.concurrency,
    shutdownGraceTime: `${opts.shutdownGraceSeconds ?? 30} seconds`,
    // A cancellation, or news that the run is gone, reaches a phase only in a heartbeat's answer.
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
  });
}
