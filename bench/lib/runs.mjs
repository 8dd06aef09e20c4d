// One timed run of a Baton plan or of a baseline workflow, bounded in time.
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Orchestrator } from '../../dist/client/orchestrator.js';
import { cpuNow, RAW_WORKFLOW_QUEUE } from './env.mjs';

/** Set by the harness: the server's pid, so each run also reports the CPU time it cost. */
export const cpuAccounting = { serverPid: undefined };

function cpuSince(before) {
  const now = cpuNow(cpuAccounting.serverPid);
  return { nodeMs: now.node - before.node, serverMs: now.server - before.server };
}

export const WORK_ROOT = path.join(os.tmpdir(), `baton-bench-${process.pid}`);

/** A plan of `n` handler phases; `dependsOn(i)` gives phase i's dependencies. */
export function handlerPlan(name, n, dependsOn, { handler = 'noop', config = () => ({}) } = {}) {
  return {
    name,
    phases: Array.from({ length: n }, (_, i) => ({ id: i, name: `P${i}`, depends_on: dependsOn(i), handler, config: config(i) })),
  };
}

export const chainDeps = (i) => (i === 0 ? [] : [i - 1]);
export const noDeps = () => [];

async function bounded(promise, timeoutMs, onTimeout) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${timeoutMs / 1000}s`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (err) {
    await onTimeout().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the plan through Baton (handoff files on: the default) in a fresh workdir, and returns the
 * wall time from start to result. The workdir is removed afterwards unless `keepWorkdir`.
 */
export async function runBaton(client, plan, config, { timeoutMs, keepWorkdir = false } = {}) {
  const runId = `${plan.name}-${randomUUID().slice(0, 8)}`;
  const workdir = path.join(WORK_ROOT, runId);
  await mkdir(workdir, { recursive: true });
  const cpu = cpuNow(cpuAccounting.serverPid);
  const started = performance.now();
  const run = await new Orchestrator(client).start({ ...plan, workdir }, config, { runId });
  try {
    const status = await bounded(run.finalStatus(), timeoutMs, () => run.workflow.terminate('benchmark time limit'));
    const ms = performance.now() - started;
    if (status.state !== 'completed') throw new Error(`run ${runId} ended ${status.state}: ${status.held_reason ?? ''}`);
    return { ms, cpu: cpuSince(cpu), workflowId: runId, workdir };
  } catch (err) {
    err.workflowId = runId;
    throw err;
  } finally {
    if (!keepWorkdir) await rm(workdir, { recursive: true, force: true });
  }
}

export async function runRaw(client, workflowType, args, { timeoutMs } = {}) {
  const workflowId = `raw-${workflowType}-${randomUUID().slice(0, 8)}`;
  const cpu = cpuNow(cpuAccounting.serverPid);
  const started = performance.now();
  const handle = await client.workflow.start(workflowType, { taskQueue: RAW_WORKFLOW_QUEUE, workflowId, args });
  await bounded(handle.result(), timeoutMs, () => handle.terminate('benchmark time limit'));
  return { ms: performance.now() - started, cpu: cpuSince(cpu), workflowId };
}

export function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { n: s.length, median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s.at(-1) };
}
