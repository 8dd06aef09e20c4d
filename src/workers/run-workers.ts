/**
 * Starts the orchestrator worker and/or phase workers in one process and runs them
 * until the process is told to stop (SIGINT/SIGTERM) or `stop()` is called.
 */
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { PhaseHandlers } from '../runner/handlers.js';
import { connectSettings, type ConnectSettings } from '../client/connection.js';
import { BUILT_IN_RESOURCE_CLASSES, type OrchestratorConfig } from '../core/plan/schema.js';
import { createOrchestratorWorker } from './orchestrator-worker.js';
import { createPhaseWorker } from './phase-worker.js';

export interface RunWorkersOptions {
  orchestrator: boolean;
  /** Resource classes to serve; empty means none. */
  classes: string[];
  config?: OrchestratorConfig;
  handlers?: PhaseHandlers;
  /** Overrides the class's configured concurrency. */
  concurrency?: number;
  /** After SIGTERM, how long phases in flight may take to finish before they are cancelled. */
  shutdownGraceSeconds?: number;
  /** Where phases' commands run (`baton worker --root`). */
  root?: string;
  settings?: ConnectSettings;
}

export interface RunningWorkers {
  taskQueues: string[];
  /** Resolves when every worker has stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** With neither flag, serve everything: the one-process development setup. */
export function defaultClasses(config: OrchestratorConfig | undefined): string[] {
  return Object.keys(config?.resource_classes ?? BUILT_IN_RESOURCE_CLASSES);
}

export async function runWorkers(opts: RunWorkersOptions): Promise<RunningWorkers> {
  const settings = opts.settings ?? connectSettings();
  const connection = await NativeConnection.connect(settings.connectionOptions).catch((err: Error) => {
    throw new Error(`cannot reach Temporal at ${settings.address} (${err.message}); start it with ./temporal-dev.sh start, or set TEMPORAL_ADDRESS`);
  });
  const classDefaults = opts.config?.resource_classes ?? BUILT_IN_RESOURCE_CLASSES;
  const workers: Worker[] = [];
  if (opts.orchestrator) workers.push(await createOrchestratorWorker(connection, settings.namespace));
  for (const resourceClass of opts.classes) {
    workers.push(
      await createPhaseWorker(connection, settings.namespace, {
        resourceClass,
        concurrency: opts.concurrency ?? classDefaults[resourceClass]?.concurrency ?? 4,
        handlers: opts.handlers,
        ...(opts.root ? { root: opts.root } : {}),
        ...(opts.shutdownGraceSeconds === undefined ? {} : { shutdownGraceSeconds: opts.shutdownGraceSeconds }),
      }),
    );
  }
  if (workers.length === 0) throw new Error('nothing to serve: pass --orchestrator and/or --class <name>');

  const done = Promise.all(workers.map((w) => w.run())).then(
    () => connection.close(),
    async (err: unknown) => {
      await connection.close();
      throw err;
    },
  );
  return {
    taskQueues: workers.map((w) => w.options.taskQueue),
    done,
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}
