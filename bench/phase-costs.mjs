// Profile support for the fan-out: what one phase costs in CPU on each side, measured outside
// Temporal with the code the workers run, for a fan-out of `phases` no-op handler phases.
// - Workflow side: what the main loop of phasedRun does when one phase completes and the next
//   starts (record the completion, find ready phases, count running ones, build the package,
//   serialize it as the payload converter would, render the status and the UI details).
// - Activity side: `executePhase` (what `runPhase` runs), one at a time and `parallelism` at once.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { executePhase } from '../dist/runner/execute-phase.js';
import { checkRun } from '../dist/core/plan/validate.js';
import { renderDetails } from '../dist/core/workflows/details.js';
import { overview } from '../dist/core/workflows/projections.js';
import { RunBook } from '../dist/core/workflows/run-book.js';
import { noop } from './handlers.mjs';
import { stats } from './lib/runs.mjs';
import { completeByHand } from './lib/synthetic.mjs';

function fanOutBook(phases, parallelism, workdir) {
  const { plan, config } = checkRun(
    { name: 'bench-costs', workdir, phases: Array.from({ length: phases }, (_, i) => ({ id: i, name: `P${i}`, handler: 'noop' })) },
    { max_parallel_phases: parallelism },
  );
  return new RunBook('bench-costs-run', plan, config, new Date());
}

function complete(book, key) {
  completeByHand(book, key, { executedBy: 'bench-host:12345', contentHash: `sha256:${'0'.repeat(64)}`, workdir: '/tmp' });
}

/** Per completed phase: the main loop's work, in ms, over the whole fan-out. */
function workflowSide(phases, parallelism) {
  const book = fanOutBook(phases, parallelism, '/tmp/bench-costs');
  const running = [];
  for (const key of book.readyPhases().slice(0, parallelism)) {
    book.phase(key).start(new Date());
    running.push(key);
  }
  const perPhase = [];
  let next = 0;
  while (running.length > 0) {
    const t = performance.now();
    complete(book, running.shift());
    for (const key of book.readyPhases()) {
      if (book.running() >= parallelism) break;
      JSON.stringify(book.phase(key).start(new Date()));
      running.push(key);
      next++;
    }
    // What the main loop publishes on each wake-up: the UI's details and the search attributes' overview.
    renderDetails(overview(book), book);
    perPhase.push(performance.now() - t);
  }
  if (next !== phases - parallelism) throw new Error(`started ${next} phases after the first ${parallelism}, expected ${phases - parallelism}`);
  return { perPhaseMs: stats(perPhase), totalMs: perPhase.reduce((a, b) => a + b, 0) };
}

async function activitySide(phases, parallelism) {
  const workdir = await mkdtemp(path.join(os.tmpdir(), 'baton-bench-costs-'));
  try {
    const book = fanOutBook(phases, parallelism, workdir);
    const packages = book.readyPhases().map((key) => book.phase(key).start(new Date()));
    const signal = new AbortController().signal;
    const run = (pkg) =>
      executePhase(pkg, { attempt: 1, writeHandoffFiles: true, handlers: { noop }, executedBy: 'bench', signal, heartbeat() {}, workdir });
    // Warm-up, then one at a time, then `parallelism` at a time (as the phase worker runs them).
    for (const pkg of packages.slice(0, 20)) await run(pkg);
    const serial = [];
    for (const pkg of packages.slice(0, Math.min(200, phases))) {
      const t = performance.now();
      await run(pkg);
      serial.push(performance.now() - t);
    }
    const t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: parallelism }, async () => {
        while (next < packages.length) await run(packages[next++]);
      }),
    );
    const concurrentMs = performance.now() - t;
    return { serialMs: stats(serial), concurrent: { phases, parallelism, totalMs: concurrentMs, perPhaseMs: concurrentMs / phases } };
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
}

export async function phaseCosts({ log, phases, parallelism }) {
  workflowSide(phases, parallelism); // warm-up
  const workflow = workflowSide(phases, parallelism);
  const activity = await activitySide(phases, parallelism);
  log(
    `phase costs (${phases} phases): workflow side ${workflow.perPhaseMs.median.toFixed(2)} ms per phase, ` +
      `activity ${activity.serialMs.median.toFixed(2)} ms alone, ${activity.concurrent.perPhaseMs.toFixed(2)} ms per phase at ${parallelism} at once`,
  );
  return { phases, parallelism, workflow, activity };
}
