// `npm run bench:store`: the store's measurements (issue 16), against a dedicated Temporal dev
// server started and stopped here and the S3 dev server of scripts/s3-dev.sh (started if it is not
// up, and then stopped again). Writes bench/results/store-latest.json and the store's section of
// BENCHMARKS.md. BENCH_QUICK=1 runs tiny counts to check the harness.
//
// 1. A chain of 200 handler phases, each handing the next a 2 KiB value (stored by reference, so
//    every phase stores one value and fetches one), with no store (the workdir), the filesystem
//    store (BATON_STORE=<dir>) and the S3 store, runs interleaved. Target: S3 / filesystem ≤ 1.10.
// 2. Handing a 20 MB artifact from a worker on one class to a worker on another, each with a cache
//    of its own (separate `baton worker` processes), through S3: the two phases' time with a 20 MB
//    artifact against the same plan with a 1 KB one.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import handlers from './handlers.mjs';
import { ROOT, startServer, startWorkers } from './lib/env.mjs';
import { chainDeps, cpuAccounting, handlerPlan, runBaton, stats, WORK_ROOT } from './lib/runs.mjs';
import { Orchestrator } from '../dist/client/orchestrator.js';
import { renderStoreSection, replaceStoreSection } from './store-report.mjs';

const quick = process.env.BENCH_QUICK === '1';
const settings = { chainPhases: quick ? 10 : 200, valueBytes: 2048, runs: quick ? 1 : 3, artifactBytes: quick ? 2_000_000 : 20_000_000, artifactRuns: quick ? 1 : 3, timeoutMs: 5 * 60_000 };
const began = Date.now();
const log = (m) => console.log(`[bench:store ${((Date.now() - began) / 1000).toFixed(0).padStart(4)}s] ${m}`);
const s3dev = (...args) => execFileSync('bash', [path.join(ROOT, 'scripts/s3-dev.sh'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

/** The S3 dev server's variables (`scripts/s3-dev.sh env`), as an object. */
function s3Variables() {
  const vars = {};
  for (const line of s3dev('env').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=['"]?([^'"]*)['"]?$/.exec(line.trim());
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}

const MODES = ['workdir', 'filesystem', 's3'];

async function chain(client, s3Env, fsStore) {
  const plan = handlerPlan('bench-store-chain', settings.chainPhases, chainDeps, { handler: 'blob', config: () => ({ bytes: settings.valueBytes }) });
  const samples = { workdir: [], filesystem: [], s3: [] };
  const use = (mode) => {
    delete process.env.BATON_STORE;
    if (mode === 'filesystem') process.env.BATON_STORE = fsStore;
    if (mode === 's3') process.env.BATON_STORE = s3Env.BATON_STORE;
  };
  for (let round = 0; round <= settings.runs; round++) {
    // Round 0 warms each mode up; then each round rotates the order, so no mode always goes first.
    const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]);
    for (const mode of order) {
      use(mode);
      const r = await runBaton(client, plan, {}, { timeoutMs: settings.timeoutMs });
      await rm(r.workdir, { recursive: true, force: true });
      log(`chain ${settings.chainPhases}, ${mode}: ${(r.ms / 1000).toFixed(2)} s${round === 0 ? ' (warm-up)' : ''}`);
      if (round > 0) samples[mode].push(r.ms);
    }
  }
  use('workdir');
  const s = Object.fromEntries(MODES.map((m) => [m, stats(samples[m])]));
  return { phases: settings.chainPhases, valueBytes: settings.valueBytes, samples, stats: s, s3OverFilesystem: s.s3.median / s.filesystem.median, s3OverWorkdir: s.s3.median / s.workdir.median };
}

function startCliWorker(args, env) {
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'worker', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${args.join(' ')} did not start:\n${out}`)), 30_000);
    proc.stdout.on('data', () => {
      if (out.includes('baton worker serving')) {
        clearTimeout(timer);
        resolve({ stop: () => new Promise((r) => (proc.exitCode !== null ? r() : (proc.once('exit', r), proc.kill('SIGTERM')))) });
      }
    });
    proc.once('exit', (code) => reject(new Error(`worker ${args.join(' ')} exited ${code}:\n${out}`)));
  });
}

const WRITE = `const fs=require('fs');const b=require('crypto').randomBytes(Number(process.argv[1]));fs.mkdirSync(process.env.BATON_WORKDIR+'/data',{recursive:true});fs.writeFileSync(process.env.BATON_WORKDIR+'/data/big.bin',b);fs.writeFileSync(process.env.BATON_OUTPUT,JSON.stringify({context:{},artifacts:{big:'data/big.bin'}}))`;
const READ = `const fs=require('fs');const h=JSON.parse(fs.readFileSync(process.env.BATON_HANDOFF,'utf8'));const a=h.dependency_contexts['1'].artifacts.big;const d=require('crypto').createHash('sha256').update(fs.readFileSync(process.env.BATON_WORKDIR+'/'+a.path)).digest('hex');if(d!==a.sha256)process.exit(1)`;

async function artifactHandoff(server, s3Env) {
  const cache = path.join(WORK_ROOT, 'caches');
  const env = { ...s3Env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'default', BATON_LOG_LEVEL: 'ERROR' };
  const workers = [
    await startCliWorker(['--orchestrator'], env),
    await startCliWorker(['--class', 'default'], { ...env, BATON_CACHE: path.join(cache, 'a') }),
    await startCliWorker(['--class', 'gpu'], { ...env, BATON_CACHE: path.join(cache, 'b') }),
  ];
  const previous = process.env.BATON_STORE;
  process.env.BATON_STORE = s3Env.BATON_STORE;
  const samples = { large: [], small: [] };
  try {
    const orchestrator = new Orchestrator(server.client);
    for (let round = 0; round <= settings.artifactRuns; round++) {
      for (const size of round % 2 ? ['small', 'large'] : ['large', 'small']) {
        const bytes = size === 'large' ? settings.artifactBytes : 1000;
        const plan = {
          name: `bench-artifact-${size}`,
          workdir: path.join(WORK_ROOT, `artifact-${size}-${round}`),
          phases: [
            { id: 1, name: 'Write', command: ['node', '-e', WRITE, String(bytes)] },
            { id: 2, name: 'Read', resource_class: 'gpu', depends_on: [1], command: ['node', '-e', READ] },
          ],
        };
        const started = performance.now();
        const status = await (await orchestrator.start(plan)).finalStatus();
        const wallMs = performance.now() - started;
        if (status.state !== 'completed') throw new Error(`the ${size} artifact run ended ${status.state}: ${JSON.stringify(status.phases)}`);
        const took = (k) => Date.parse(status.phases[k].finished_at) - Date.parse(status.phases[k].started_at);
        const sample = { wallMs, writeMs: took('1'), readMs: took('2'), bothMs: took('1') + took('2') };
        log(`artifact ${size} (${bytes} bytes): phases ${sample.writeMs} + ${sample.readMs} ms, run ${(wallMs / 1000).toFixed(2)} s${round === 0 ? ' (warm-up)' : ''}`);
        if (round > 0) samples[size].push(sample);
      }
    }
  } finally {
    if (previous === undefined) delete process.env.BATON_STORE;
    else process.env.BATON_STORE = previous;
    for (const w of workers) await w.stop();
  }
  const med = (size, field) => stats(samples[size].map((s) => s[field])).median;
  return {
    bytes: settings.artifactBytes,
    samples,
    large: { writeMs: med('large', 'writeMs'), readMs: med('large', 'readMs'), bothMs: med('large', 'bothMs'), wallMs: med('large', 'wallMs') },
    small: { writeMs: med('small', 'writeMs'), readMs: med('small', 'readMs'), bothMs: med('small', 'bothMs'), wallMs: med('small', 'wallMs') },
    handoffMs: med('large', 'bothMs') - med('small', 'bothMs'),
  };
}

function machine() {
  const cpu = os.cpus();
  return { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}` };
}

async function main() {
  const wasUp = (() => {
    try {
      s3dev('status');
      return true;
    } catch {
      return false;
    }
  })();
  log(`S3 dev server: ${wasUp ? 'already up' : 'starting (scripts/s3-dev.sh start)'}`);
  if (!wasUp) s3dev('start');
  const vars = s3Variables();
  const s3Env = { ...vars, BATON_STORE: `s3://${vars.BATON_S3_BUCKET ?? 'baton-dev'}/bench-${process.pid}` };
  for (const [k, v] of Object.entries(s3Env)) if (k !== 'BATON_STORE') process.env[k] = v;
  process.env.BATON_CACHE = path.join(WORK_ROOT, 'cache');
  const fsStore = path.join(WORK_ROOT, 'fs-store');
  await mkdir(fsStore, { recursive: true });

  const server = await startServer();
  cpuAccounting.serverPid = server.pid;
  const results = { date: new Date().toISOString(), quick, machine: machine(), settings, commit: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim() };
  try {
    const workers = await startWorkers({ address: server.address, concurrency: 4, handlers, baseline: false });
    try {
      results.chain = await chain(server.client, s3Env, fsStore);
    } finally {
      await workers.stop();
    }
    results.artifact = await artifactHandoff(server, s3Env);
  } finally {
    await server.stop();
    if (!wasUp) s3dev('stop');
    await rm(WORK_ROOT, { recursive: true, force: true });
  }
  const dir = path.join(ROOT, 'bench/results');
  await writeFile(path.join(dir, quick ? 'store-quick.json' : 'store-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (!quick) {
    const file = path.join(ROOT, 'BENCHMARKS.md');
    await writeFile(file, replaceStoreSection(await readFile(file, 'utf8'), renderStoreSection(results)));
  }
  log(`done; S3 / filesystem store ${results.chain.s3OverFilesystem.toFixed(2)}, 20 MB handoff ${Math.round(results.artifact.handoffMs)} ms`);
}

await main();
