// Profile support for the fan-out: V8 CPU profiles of Baton's workers while they run the fan-out.
// The parent spawns this file again as `node --cpu-prof` (one profile per thread: the main thread
// runs activities and the SDK's bridge, a worker thread runs the workflows); the child starts its
// own server and Baton's two workers, runs the fan-out twice (a warm-up and the profiled one; the
// profiles cover both), and the parent sums the profiles' self time by category.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = 2;

/** Self time is sorted into these buckets by the frame that spends it; the first match wins. */
const CATEGORIES = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  [
    "the SDK's promise hook: a stack trace for every promise the workflow creates",
    (f) =>
      /workflow\/vm-shared\.js$/.test(f.url) ||
      ['get stack', 'captureStackTrace'].includes(f.functionName) ||
      f.functionName.startsWith('RegExp: (?:\\s+at') ||
      /source-map/.test(f.url),
  ],
  ['entering the workflow sandbox (runInContext)', (f) => f.functionName === 'runInContext'],
  ['payload conversion (JSON, protobuf)', (f) => /(toPayload|fromPayload|encode|decode|toJSON|stringify|parse)$/i.test(f.functionName) || /protobufjs|payload-converter|encoding\.js/.test(f.url)],
  ['Baton workflow code (run book, packages, status)', (f) => /workflow-bundle/.test(f.url)],
  ['file system (handoff files, context export)', (f) => ['openFileHandle', 'mkdir', 'writeBuffer', 'writeString', 'rename', 'close', 'chmod', 'stat', 'lstat', 'open', 'writeFileHandle', 'readFileHandle', 'realpath', 'unlink', 'rm'].includes(f.functionName) || /internal\/fs/.test(f.url)],
  ['Baton activity code', (f) => /\/dist\/(activities|runner|core)\//.test(f.url)],
  ["the SDK's native bridge (core)", (f) => /core-bridge/.test(f.url)],
  ['other', () => true],
];

async function child() {
  const { startServer, startWorkers } = await import('./lib/env.mjs');
  const { default: handlers } = await import('./handlers.mjs');
  const { handlerPlan, noDeps, runBaton } = await import('./lib/runs.mjs');
  const [phases, parallelism] = process.argv.slice(3).map(Number);
  const server = await startServer();
  const workers = await startWorkers({ address: server.address, concurrency: parallelism, handlers, baseline: false });
  const config = { max_parallel_phases: parallelism, resource_classes: { default: { concurrency: parallelism } } };
  try {
    const times = [];
    for (let i = 0; i < RUNS; i++) times.push((await runBaton(server.client, handlerPlan('bench-profile', phases, noDeps), config, { timeoutMs: 300_000 })).ms);
    console.log(JSON.stringify({ times }));
  } finally {
    await workers.stop();
    await server.stop();
  }
}

function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map(CATEGORIES.map(([name]) => [name, 0]));
  const functions = new Map();
  // The SDK's native bridge runs on the main thread (with the activities); workflows run on another.
  let mainThread = false;
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = byId.get(profile.samples[i]).callFrame;
    if (/core-bridge/.test(frame.url)) mainThread = true;
    const us = profile.timeDeltas[i] ?? 0;
    const [name] = CATEGORIES.find(([, match]) => match(frame));
    totals.set(name, totals.get(name) + us);
    if (name !== 'idle') {
      const key = `${frame.functionName || '(anonymous)'} (${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/') || 'native'})`;
      functions.set(key, (functions.get(key) ?? 0) + us);
    }
  }
  const ms = (us) => us / 1000;
  const busy = [...totals].filter(([k]) => k !== 'idle').reduce((a, [, v]) => a + v, 0);
  return {
    thread: mainThread ? 'main thread' : 'workflow thread',
    wallMs: ms(profile.endTime - profile.startTime),
    busyMs: ms(busy),
    categories: Object.fromEntries([...totals].filter(([k, v]) => k !== 'idle' && v > 0).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, ms(v)])),
    topFunctions: [...functions].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP ?? 8)).map(([k, v]) => ({ fn: k, ms: ms(v) })),
  };
}

export async function profileFanOut({ log, phases, parallelism, timeoutMs }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baton-bench-prof-'));
  try {
    const script = fileURLToPath(import.meta.url);
    const proc = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, script, '--child', String(phases), String(parallelism)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    const code = await new Promise((resolve) => proc.once('exit', (c, signal) => resolve(c ?? signal)));
    clearTimeout(timer);
    const line = out.split('\n').find((l) => l.startsWith('{"times"'));
    if (code !== 0 || !line) return { ok: false, error: `profiling run exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}` };
    const threads = [];
    for (const file of await readdir(dir)) {
      const summary = summarize(JSON.parse(await readFile(path.join(dir, file), 'utf8')));
      if (summary.busyMs > 500) threads.push(summary); // leave out the idle threads of the SDK
    }
    const { times } = JSON.parse(line);
    log(`fan-out profile: ${threads.map((t) => `${t.thread} busy ${(t.busyMs / 1000).toFixed(1)} s`).join(', ')} over ${RUNS} runs of ${phases} phases`);
    return { ok: true, phases, parallelism, runs: RUNS, runMs: times, threads };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child();
