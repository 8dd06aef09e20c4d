// `npm run bench`: every measurement of BENCHMARKS.md, against a dedicated Temporal dev server
// started (and stopped) here, then the peer (Prefect), then BENCHMARKS.md and
// bench/results/latest.json are written. BENCH_QUICK=1 runs tiny counts to check the harness.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chainBenchmark, fanOutAttempt, fanOutBenchmark } from './ab.mjs';
import handlers from './handlers.mjs';
import { historyGrowth } from './history-growth.mjs';
import { largePlan } from './large-plan.mjs';
import { ROOT, startServer, startWorkers, temporalVersion } from './lib/env.mjs';
import { cpuAccounting, WORK_ROOT } from './lib/runs.mjs';
import { phaseCosts } from './phase-costs.mjs';
import { packageBuild } from './package-build.mjs';
import { prefectPeer } from './peer.mjs';
import { profileFanOut } from './profile-fanout.mjs';
import { renderReport } from './report.mjs';
import { replaceStoreSection, storeSectionOf } from './store-report.mjs';

const quick = process.env.BENCH_QUICK === '1';
const RUNS = quick ? 2 : 5;
const PARALLELISM = quick ? 10 : 100;
const settings = {
  runs: RUNS,
  concurrency: PARALLELISM,
  chainPhases: quick ? 10 : 200,
  fanOutPhases: quick ? 40 : 1000,
  // Tried once each when Baton cannot run the full fan-out: the next sizes down.
  fanOutAttempts: quick ? [] : [1000, 500],
  fanOutFallbackPhases: quick ? 40 : 200,
  historyPhases: quick ? 3 : 10,
  // Item 4: 100 layers of 100 phases (quick: 5 of 20), one run, continuing as new when the server suggests it.
  largePlan: quick ? { layers: 5, width: 20 } : { layers: 100, width: 100 },
  packageDependencies: 1000,
  packageIterations: 20,
  // A Baton run takes 10-30 s here; one still going after 2 minutes is stuck, and is recorded as failed.
  timeoutMs: 2 * 60_000,
};

const began = Date.now();
const log = (message) => console.log(`[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)}s] ${message}`);

/** Which code was measured: the commit, and any uncommitted changes to src/ at the time of the build. */
function revision() {
  const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  try {
    return {
      commit: git('rev-parse', 'HEAD').trim(),
      subject: git('log', '-1', '--format=%s').trim(),
      // `git status --porcelain` lines are "XY path": the path starts at column 3.
      dirtySrc: git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).map((l) => l.slice(3)),
    };
  } catch {
    // A copy made with `git archive` (to keep a colleague's concurrent edits out) says which commit it is.
    return { commit: process.env.BENCH_REVISION ?? 'unknown (not a git checkout)', subject: process.env.BENCH_REVISION_SUBJECT ?? '', dirtySrc: [], note: process.env.BENCH_REVISION_NOTE };
  }
}

function machine(binary) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    node: process.version,
    temporal: temporalVersion(binary),
    os: `${os.type()} ${os.release()}`,
  };
}

async function main() {
  const results = { date: new Date().toISOString(), command: 'npm run bench', quick, settings, revision: revision() };
  // Baton's phase class and the baseline's activity worker run at the same concurrency.
  const config = { resource_classes: { default: { concurrency: settings.concurrency } } };
  const server = await startServer();
  results.machine = machine(server.binary);
  cpuAccounting.serverPid = server.pid;
  log(`Temporal dev server at ${server.address} (${results.machine.temporal.split('\n')[0]}), pid ${server.pid}`);
  const workers = await startWorkers({ address: server.address, concurrency: settings.concurrency, handlers });
  const common = { client: server.client, log, runs: RUNS, config, timeoutMs: settings.timeoutMs };
  try {
    results.chain = await chainBenchmark({ ...common, phases: settings.chainPhases });

    results.fanOutAttempts = [];
    for (const phases of settings.fanOutAttempts) {
      const attempt = await fanOutAttempt({ ...common, phases, parallelism: PARALLELISM });
      results.fanOutAttempts.push(attempt);
      if (attempt.ok) break;
    }
    const fullOk = settings.fanOutAttempts.length === 0 || results.fanOutAttempts[0].ok;
    const fanOutPhases = fullOk ? settings.fanOutPhases : settings.fanOutFallbackPhases;
    results.fanOut = await fanOutBenchmark({ ...common, phases: fanOutPhases, parallelism: PARALLELISM });
    results.fanOut.reduced = fanOutPhases !== settings.fanOutPhases;

    results.history = await historyGrowth({ ...common, phases: settings.historyPhases });
  } finally {
    await workers.stop();
    await server.stop();
    await rm(WORK_ROOT, { recursive: true, force: true });
  }

  // Its own server, and the orchestrator worker in a process of its own, for its peak memory.
  results.largePlan = await largePlan({ log, ...settings.largePlan, parallelism: PARALLELISM });

  // Its own server and workers, in a child process under the V8 profiler.
  results.fanOutProfile = await profileFanOut({ log, phases: results.fanOut.phases, parallelism: PARALLELISM, timeoutMs: 10 * 60_000 });
  results.phaseCosts = await phaseCosts({ log, phases: settings.fanOutPhases, parallelism: PARALLELISM });
  results.packageBuild = packageBuild({ log, dependencies: settings.packageDependencies, runs: RUNS, iterations: settings.packageIterations });

  // The peer runs after the Temporal server has stopped, so each system has the machine to itself.
  results.peer = await prefectPeer({
    log,
    chain: settings.chainPhases,
    fanOut: settings.fanOutPhases,
    parallelism: PARALLELISM,
    runs: RUNS,
    timeoutMs: 10 * 60_000,
  });

  results.durationS = (Date.now() - began) / 1000;
  const dir = path.join(ROOT, 'bench/results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, quick ? 'quick.json' : 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  // The store's section (npm run bench:store) is carried over as it is.
  const kept = storeSectionOf(await readFile(path.join(ROOT, 'BENCHMARKS.md'), 'utf8').catch(() => ''));
  await writeFile(quick ? path.join(dir, 'quick.md') : path.join(ROOT, 'BENCHMARKS.md'), kept ? replaceStoreSection(renderReport(results), kept) : renderReport(results));
  log(`done in ${(results.durationS / 60).toFixed(1)} min; ${quick ? 'bench/results/quick.{json,md}' : 'BENCHMARKS.md and bench/results/latest.json'} written`);
}

await main();
