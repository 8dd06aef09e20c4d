// Measurement 4: a plan of 10,000 phases (100 layers of 100) as one run, continuing as new
// whenever the server suggests it. The orchestrator worker is a process of its own
// (`baton worker --orchestrator`), so its peak memory (VmHWM) is its alone; the phase worker is
// another (`baton worker --class default`). Its own dev server, stopped at the end.
//   node bench/large-plan.mjs [layers] [width]     (after `npm run build`)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Orchestrator } from '../dist/client/orchestrator.js';
import { ROOT, startServer } from './lib/env.mjs';

const HANDLERS = fileURLToPath(new URL('./handlers.mjs', import.meta.url));
const BATON = path.join(ROOT, 'dist/cli/main.js');

/** Layer l, position i depends on positions i and i+1 of layer l-1: every layer waits for the one before. */
export function layeredPlan(layers, width) {
  const id = (l, i) => l * width + i;
  const phases = [];
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      phases.push({ id: id(l, i), name: `L${l}.${i}`, handler: 'noop', depends_on: l === 0 ? [] : [...new Set([id(l - 1, i), id(l - 1, (i + 1) % width)])] });
    }
  }
  return { name: `bench-large-${layers}x${width}`, phases };
}

function peakMemoryMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakRssMiB: Math.round(kib('VmHWM') / 1024), rssAtEndMiB: Math.round(kib('VmRSS') / 1024) };
}

async function startBatonWorker(address, args) {
  const proc = spawn(process.execPath, [BATON, 'worker', ...args], {
    env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default', BATON_LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 60_000);
    proc.stdout.on('data', () => output.includes('baton worker serving') && (clearTimeout(timer), resolve()));
    proc.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${output}`)));
  });
  return { proc, output: () => output };
}

export async function largePlan({ log, layers = 100, width = 100, parallelism = 100, timeoutMs = 45 * 60_000 }) {
  const server = await startServer();
  const workdir = path.join(os.tmpdir(), `baton-bench-large-${process.pid}`);
  await mkdir(workdir, { recursive: true });
  const orchestratorWorker = await startBatonWorker(server.address, ['--orchestrator']);
  const phaseWorker = await startBatonWorker(server.address, ['--class', 'default', '--handlers', HANDLERS, '--concurrency', String(parallelism)]);
  const plan = { ...layeredPlan(layers, width), workdir };
  const phases = layers * width;
  const started = performance.now();
  try {
    const run = await new Orchestrator(server.client).start(plan, { max_parallel_phases: parallelism, resource_classes: { default: { concurrency: parallelism } } });
    log(`large plan: ${phases} phases started as ${run.runId}`);
    let timer;
    const progress = setInterval(() => {
      run.status().then(
        (s) => log(`large plan: ${s.state}, segment ${s.continued?.segment ?? 0}, ${Object.values(s.phases).filter((p) => p.state === 'completed').length + (s.omitted_phases ?? 0)} completed (${((performance.now() - started) / 1000).toFixed(0)} s)`),
        () => {},
      );
    }, 30_000);
    const status = await Promise.race([
      run.finalStatus(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`did not finish in ${timeoutMs / 60_000} min`)), timeoutMs))),
    ]).finally(() => {
      clearTimeout(timer);
      clearInterval(progress);
    });
    const seconds = (performance.now() - started) / 1000;
    const memory = peakMemoryMiB(orchestratorWorker.proc.pid);
    const exported = JSON.parse(await readFile(path.join(workdir, 'execution_context.json'), 'utf8'));
    const completed = Object.values(exported.phases).filter((p) => p.state === 'completed').length;
    // Every segment's history, to show none came near Temporal's limits (51,200 events, 50 MB).
    const segments = [];
    for await (const execution of server.client.workflow.list({ query: `WorkflowId = '${run.runId}'` })) {
      const history = await server.client.workflow.getHandle(run.runId, execution.runId).fetchHistory();
      segments.push({ runId: execution.runId, events: history.events.length, bytes: Buffer.byteLength(JSON.stringify(history)) });
    }
    const result = {
      phases,
      layers,
      width,
      parallelism,
      state: status.state,
      completedInExport: completed,
      segmentsFromStatus: (status.continued?.segment ?? 0) + 1,
      seconds,
      phasesPerSecond: phases / seconds,
      orchestrator: memory,
      segments: { count: segments.length, maxEvents: Math.max(...segments.map((s) => s.events)), maxHistoryBytes: Math.max(...segments.map((s) => s.bytes)) },
    };
    log(`large plan: ${status.state} in ${seconds.toFixed(0)} s; ${result.segmentsFromStatus} runs; orchestrator peak RSS ${memory.peakRssMiB} MiB`);
    return result;
  } finally {
    for (const w of [orchestratorWorker, phaseWorker]) w.proc.kill('SIGTERM');
    await Promise.all([orchestratorWorker, phaseWorker].map((w) => new Promise((r) => (w.proc.exitCode !== null ? r() : w.proc.once('exit', r)))));
    await server.stop();
    await rm(workdir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [layers = 100, width = 100] = process.argv.slice(2).map(Number);
  const began = Date.now();
  const log = (m) => console.log(`[large ${((Date.now() - began) / 1000).toFixed(0).padStart(4)}s] ${m}`);
  console.log(JSON.stringify(await largePlan({ log, layers, width }), null, 2));
}
