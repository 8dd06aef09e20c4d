// Measurement 5: building the package of a phase with 1,000 dependencies, in plain Node, with the
// same code the workflow runs (RunBook's records as the progress map, buildHandoffPackage), and
// the package's size as the activity input would carry it (JSON bytes).
import { buildHandoffPackage } from '../dist/core/handoff/build.js';
import { checkRun } from '../dist/core/plan/validate.js';
import { overview, runStatus } from '../dist/core/workflows/projections.js';
import { RunBook } from '../dist/core/workflows/run-book.js';
import { renderDetails } from '../dist/core/workflows/details.js';
import { stats } from './lib/runs.mjs';
import { completeByHand } from './lib/synthetic.mjs';

const hex = (n) => n.toString(16).padStart(64, '0');

/** What a finished dependency typically hands on: a small inline value, a large one by reference, an artifact. */
function dependencyOutput(i) {
  return {
    context: {
      summary: `phase ${i} found ${i * 7} items; see the report`,
      items: i * 7,
      // A 1 MB value, stored by reference as the worker would store it.
      findings: { $baton_ref: { sha256: hex(i), size: 1024 * 1024, path: `context-store/${hex(i).slice(0, 2)}/${hex(i)}.json` } },
    },
    artifacts: { report: { path: `out/report_${i}.json`, sha256: hex(i + 1), size: 40960 } },
  };
}

function timeIt(fn, iterations) {
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times;
}

/**
 * For the fan-out of n independent no-op phases: one package's size (its state_summary lists every
 * phase of the plan), what the first workflow task must send when it schedules `parallelism` of
 * them, and the status each execution_context.json export carries once all have completed.
 */
function fanOutSizes(n, parallelism = 100) {
  const { plan, config } = checkRun(
    { name: 'bench-fanout', workdir: '/tmp/bench-fanout', phases: Array.from({ length: n }, (_, i) => ({ id: i, name: `P${i}`, handler: 'noop' })) },
    { max_parallel_phases: parallelism },
  );
  const book = new RunBook('bench-fanout-run', plan, config, new Date());
  const first = Buffer.byteLength(JSON.stringify(book.packageFor(book.phase('0'), new Date()))); // before any phase has run
  for (let i = 0; i < n; i++) {
    const key = String(i);
    book.phase(key).start(new Date());
    completeByHand(book, key, { executedBy: 'bench-host:12345', contentHash: `sha256:${hex(i)}`, workdir: '/tmp/bench-fanout' });
  }
  return {
    phases: n,
    parallelism,
    stateSummaryEntries: Object.keys(book.packageFor(book.phase('0'), new Date()).state_summary).length,
    packageBytes: first,
    firstWorkflowTaskPackageBytes: first * parallelism,
    finalStatusBytes: Buffer.byteLength(JSON.stringify(runStatus(book, null))),
  };
}

export function packageBuild({ log, dependencies, runs, iterations }) {
  const n = dependencies;
  const { plan, config } = checkRun(
    {
      name: 'bench-package',
      workdir: '/tmp/bench-package',
      phases: [
        ...Array.from({ length: n }, (_, i) => ({ id: i, name: `Dependency ${i}`, handler: 'noop' })),
        { id: n, name: 'Join', depends_on: Array.from({ length: n }, (_, i) => i), handler: 'noop' },
      ],
    },
    {},
  );
  const book = new RunBook('bench-package-run', plan, config, new Date());
  for (let i = 0; i < n; i++) {
    const key = String(i);
    book.phase(key).start(new Date());
    completeByHand(book, key, { output: dependencyOutput(i), executedBy: 'bench:1', contentHash: `sha256:${hex(i)}`, workdir: '/tmp/bench-package' });
  }
  const joinKey = String(n);
  const input = () => ({
    executionId: book.executionId,
    plan: book.plan,
    config: book.config,
    phase: book.phasesByKey.get(joinKey),
    phasesByKey: book.phasesByKey,
    progress: book.records, // RunBook's own records: exactly what the workflow passes
    generation: 1,
    now: new Date(),
    separateAgent: false,
  });
  const pkg = buildHandoffPackage(input());
  const json = JSON.stringify(pkg);
  if (Object.keys(pkg.dependency_contexts).length !== n) throw new Error('the package does not carry every dependency');

  // Warm-up (JIT), then `runs` runs of `iterations` builds each.
  timeIt(() => buildHandoffPackage(input()), iterations);
  const build = [];
  const buildAndEncode = [];
  for (let r = 0; r < runs; r++) {
    build.push(...timeIt(() => buildHandoffPackage(input()), iterations));
    // The workflow then hands the package to the SDK, whose JSON payload converter serializes it.
    buildAndEncode.push(...timeIt(() => JSON.stringify(buildHandoffPackage(input())), iterations));
  }
  // What else each wake-up of the workflow's main loop does at this plan size.
  const status = stats(timeIt(() => runStatus(book, null), iterations * runs));
  const details = stats(timeIt(() => renderDetails(overview(book), book), iterations * runs));
  const statusBytes = JSON.stringify(runStatus(book, null)).length;
  const sections = Object.fromEntries(Object.entries(pkg).map(([k, v]) => [k, JSON.stringify(v ?? null).length]));
  const result = {
    fanOut: fanOutSizes(n),
    dependencies: n,
    planPhases: n + 1,
    builds: build.length,
    buildMs: stats(build),
    buildAndEncodeMs: stats(buildAndEncode),
    packageBytes: Buffer.byteLength(json),
    stateSummaryEntries: Object.keys(pkg.state_summary).length,
    referencedBytes: n * 1024 * 1024,
    sections,
    perWakeup: { statusMs: status, statusAndDetailsMs: details, statusBytes },
  };
  log(`package build: ${n} dependencies: median ${result.buildMs.median.toFixed(2)} ms, ${result.packageBytes} B`);
  return result;
}
