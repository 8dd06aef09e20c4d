// The benchmark's Temporal: a dedicated dev server on a free loopback port (in-memory, from the
// binary `temporal-dev.sh path` provides; nothing is downloaded), and every worker the
// benchmarks need in this one process, on one connection: Baton's orchestrator and phase
// workers, and the baseline's workflow and activity workers with the same settings.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createOrchestratorWorker } from '../../dist/workers/orchestrator-worker.js';
import { createPhaseWorker } from '../../dist/workers/phase-worker.js';
import { RAW_ACTIVITY_QUEUE } from '../baseline-workflows.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RAW_WORKFLOW_QUEUE = 'bench-raw-wf';
export const NAMESPACE = 'default';

let runtimeInstalled = false;
function installRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const print = new DefaultLogger('WARN');
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      // Phase and raw-activity workers register no workflows by design.
      if (entry.message.startsWith('No workflows registered')) return;
      print.log(entry.level, entry.message, entry.meta);
    }),
  });
}

export function temporalBinary() {
  return execFileSync('bash', ['temporal-dev.sh', 'path'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export function temporalVersion(binary) {
  return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
}

/** The dev server's process: the child of this process running `temporal server start-dev`. */
function serverPid() {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev')) return Number(pid);
    } catch {
      // a process that ended while we looked
    }
  }
  return undefined;
}

/** CPU time used so far, in ms: this process (all its threads: workflows, activities, client) and the server. */
export function cpuNow(pid) {
  const own = process.cpuUsage();
  let server = NaN;
  if (pid !== undefined) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      server = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
    } catch {
      // the server has gone
    }
  }
  return { node: (own.user + own.system) / 1000, server };
}

/** Starts the server (no UI, no search attributes: only what the benchmarks need). */
export async function startServer({ extraArgs = [] } = {}) {
  installRuntime();
  const binary = temporalBinary();
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: binary }, ip: '127.0.0.1', extraArgs: ['--log-level', 'error', ...extraArgs] },
  });
  // Baton's histories hold events of hundreds of KB: allow large gRPC replies when reading them.
  const connection = await Connection.connect({ address: env.address, channelArgs: { 'grpc.max_receive_message_length': 512 * 1024 * 1024 } });
  const client = new Client({ connection, namespace: NAMESPACE });
  return {
    binary,
    address: env.address,
    client,
    pid: serverPid(),
    async stop() {
      await connection.close();
      await env.teardown();
    },
  };
}

const noop = async () => ({});

/**
 * Starts the four workers. `concurrency` is both Baton's default class concurrency and the raw
 * activity worker's maxConcurrentActivityTaskExecutions; both workflow workers keep the SDK defaults.
 */
export async function startWorkers({ address, concurrency, handlers, baseline = true }) {
  installRuntime();
  const connection = await NativeConnection.connect({ address });
  const workers = [
    await createOrchestratorWorker(connection, NAMESPACE),
    await createPhaseWorker(connection, NAMESPACE, { resourceClass: 'default', concurrency, handlers }),
  ];
  if (baseline) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../baseline-workflows.mjs', import.meta.url)),
      logger: new DefaultLogger('ERROR'),
    });
    workers.push(
      await Worker.create({ connection, namespace: NAMESPACE, taskQueue: RAW_WORKFLOW_QUEUE, workflowBundle: { code } }),
      await Worker.create({
        connection,
        namespace: NAMESPACE,
        taskQueue: RAW_ACTIVITY_QUEUE,
        activities: { noop },
        maxConcurrentActivityTaskExecutions: concurrency,
        shutdownGraceTime: '30 seconds', // as Baton's phase worker
      }),
    );
  }
  const done = Promise.all(workers.map((w) => w.run()));
  return {
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
      await connection.close();
    },
  };
}
