/**
 * `baton worker`: serve the orchestrator queue and/or resource-class queues.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Command } from 'commander';
import type { PhaseHandlers } from '../../runner/handlers.js';
import { loadConfig } from '../../client/load-plan.js';
import { WORKER_HEARTBEAT_SECONDS } from '../../client/workers.js';
import { defaultClasses, runWorkers } from '../../workers/run-workers.js';
import { action, UsageError } from '../errors.js';
import { logCapFromEnv } from '../../runner/capped-log.js';
import { configuredStore } from '../../runner/store/sync.js';
import type { Store } from '../../runner/store/store.js';

/** The store BATON_STORE names, or none; a BATON_STORE that names no store Baton can use is said at start. */
function storeOrUsageError(): Store | undefined {
  try {
    return configuredStore();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

interface WorkerOptions {
  orchestrator?: boolean;
  class: string[];
  config?: string;
  concurrency?: string;
  handlers?: string;
  grace?: string;
  root?: string;
  cache?: string;
}

/** A module whose default export (or `handlers` export) maps handler names to functions. */
export async function loadHandlers(modulePath: string | undefined): Promise<PhaseHandlers> {
  if (!modulePath) return {};
  const mod = (await import(pathToFileURL(path.resolve(modulePath)).href)) as { default?: unknown; handlers?: unknown };
  const handlers = mod.handlers ?? mod.default;
  if (!handlers || typeof handlers !== 'object') {
    throw new UsageError(`${modulePath} exports no handlers; export default { name: async (ctx) => ({ context: {} }) }`);
  }
  return handlers as PhaseHandlers;
}

/** The SDK's default logger, less its warning that phase workers register no workflows: by design here. */
function workerLogger(level: LogLevel): DefaultLogger {
  const print = new DefaultLogger(level);
  return new DefaultLogger(level, (entry) => {
    if (entry.message.startsWith('No workflows registered')) return;
    print.log(entry.level, entry.message, entry.meta);
  });
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('serve the orchestrator queue `baton` and/or phase queues `baton-<class>`; with neither flag, all of them')
    .option('--orchestrator', 'serve the orchestrator queue (runs phasedRun workflows)')
    .option('--class <name>', 'serve baton-<name>; repeat for more classes', (v: string, acc: string[]) => [...acc, v], [])
    .option('-c, --config <file>', 'orchestrator_config.json (declares classes and their concurrency)')
    .option('--concurrency <n>', 'phases this worker runs at once per class (overrides the config)')
    .option('--handlers <module>', 'JS module exporting handler functions for handler phases')
    .option('--grace <seconds>', 'after SIGTERM, how long phases in flight may take to finish (default 30)')
    .option('--root <dir>', "where phases' commands run: this machine's copy of the code (default: the plan's directory; with BATON_STORE, this worker's cwd)")
    .option('--cache <dir>', "with BATON_STORE: where this worker keeps its copies of runs' workdirs (default BATON_CACHE, else ~/.cache/baton)")
    .action(
      action(async (opts: WorkerOptions) => {
        // The SDK's INFO lines drown what an operator needs; BATON_LOG_LEVEL=INFO brings them back.
        // Worker heartbeats (Temporal's worker records) every few seconds rather than the SDK's
        // minute: `baton queues` and the run's watch count a killed worker out within seconds.
        Runtime.install({
          logger: workerLogger((process.env.BATON_LOG_LEVEL ?? 'WARN') as LogLevel),
          workerHeartbeatInterval: `${WORKER_HEARTBEAT_SECONDS} seconds`,
        });
        const config = await loadConfig(opts.config);
        // A log cap it cannot use is said now, not as every phase failing to start.
        try {
          logCapFromEnv();
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const serveAll = !opts.orchestrator && opts.class.length === 0;
        const classes = serveAll ? defaultClasses(config) : opts.class;
        if (config) {
          const unknown = classes.filter((c) => !(c in config.resource_classes));
          if (unknown.length > 0) {
            throw new UsageError(`class ${unknown.join(', ')} is not declared in ${opts.config}; declared: ${Object.keys(config.resource_classes).join(', ')}`);
          }
        }
        const root = opts.root === undefined ? undefined : path.resolve(opts.root);
        if (root !== undefined && !existsSync(root)) throw new UsageError(`--root ${opts.root}: no such directory on this machine; name the directory phases' commands run from`);
        // The cache is read where packages are run (cachedWorkdir), as BATON_CACHE.
        if (opts.cache !== undefined) process.env.BATON_CACHE = path.resolve(opts.cache);
        const store = storeOrUsageError();
        let concurrency: number | undefined;
        if (opts.concurrency !== undefined) {
          concurrency = Number(opts.concurrency);
          if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency takes a whole number ≥ 1, not "${opts.concurrency}"`);
        }
        let shutdownGraceSeconds: number | undefined;
        if (opts.grace !== undefined) {
          shutdownGraceSeconds = Number(opts.grace);
          if (!Number.isFinite(shutdownGraceSeconds) || shutdownGraceSeconds < 0) throw new UsageError(`--grace takes a number of seconds, not "${opts.grace}"`);
        }
        const workers = await runWorkers({
          orchestrator: serveAll || opts.orchestrator === true,
          classes,
          config,
          concurrency,
          handlers: await loadHandlers(opts.handlers),
          ...(root ? { root } : {}),
          ...(shutdownGraceSeconds === undefined ? {} : { shutdownGraceSeconds }),
        });
        const files = store ? `; run files in ${store.description}` : '';
        console.log(`baton worker serving ${workers.taskQueues.join(', ')} (pid ${process.pid}${files}); Ctrl-C to stop`);
        await workers.done;
      }),
    );
}
