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
  /** Phases in a row this worker may be unable to run before it stops taking them (default 3). */
  cannotRunLimit?: number;
  /** Where phases' commands run (`--root`); see ExecuteOptions.root. */
  root?: string;
}

export async function createPhaseWorker(connection: NativeConnection, namespace: string, opts: PhaseWorkerOptions): Promise<Worker> {
  const taskQueue = taskQueueFor(opts.resourceClass);
  const limit = opts.cannotRunLimit ?? 3;
  let inARow = 0;
  /** Set once created: the activities below stop it. */
  const created: { worker?: Worker } = {};
  const activities = createPhaseActivities(opts.handlers, {
    ...(opts.root ? { root: opts.root } : {}),
    ran: () => {
      inARow = 0;
    },
    // A machine that keeps lacking what phases need (no shared mount, a missing program) would take
    // every phase of its queue and hand it back: it stops taking them, and says why, instead.
    cannotRun: (reason) => {
      inARow += 1;
      const { worker } = created;
      if (inARow < limit || worker?.getState() !== 'RUNNING') return;
      console.error(`baton worker: stopped taking phases from ${taskQueue}: ${inARow} phases in a row could not run here; the last: ${reason}. Fix this machine, then start the worker again.`);
      worker.shutdown();
    },
  });
  created.worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    activities,
    maxConcurrentActivityTaskExecutions: opts.concurrency,
    shutdownGraceTime: `${opts.shutdownGraceSeconds ?? 30} seconds`,
    // A cancellation, or news that the run is gone, reaches a phase only in a heartbeat's answer.
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
  });
  return created.worker;
}
