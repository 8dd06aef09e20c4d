// Measurements 1 and 2: Baton against the raw proxyActivities baseline, A/B interleaved in one
// process against one server, after one warm-up of each.
import proto from '@temporalio/proto';
import { analyzeHistory, fetchHistory } from './lib/history.mjs';
import { chainDeps, handlerPlan, noDeps, runBaton, runRaw, stats } from './lib/runs.mjs';

const { WorkflowTaskFailedCause } = proto.temporal.api.enums.v1;

function summarize(samples) {
  const baton = samples.map((s) => s.baton);
  const raw = samples.map((s) => s.raw);
  return {
    baton: stats(baton),
    raw: stats(raw),
    pairRatio: stats(samples.map((s) => s.baton / s.raw)),
    // CPU time per run: this process (workers and client) and the Temporal server.
    cpu: {
      batonNodeMs: stats(samples.map((s) => s.batonCpu.nodeMs)),
      batonServerMs: stats(samples.map((s) => s.batonCpu.serverMs)),
      rawNodeMs: stats(samples.map((s) => s.rawCpu.nodeMs)),
      rawServerMs: stats(samples.map((s) => s.rawCpu.serverMs)),
    },
  };
}

/** Profile numbers from the histories of the last measured pair. */
async function profile(client, batonId, rawId, phases) {
  const baton = analyzeHistory(await fetchHistory(client, batonId), 'runPhase');
  const raw = analyzeHistory(await fetchHistory(client, rawId), 'noop');
  return { phases, baton, raw };
}

/** A Baton run that failed: the error, and what its history shows. */
async function failure(client, err, run) {
  const message = [err.message, err.cause?.message, err.cause?.cause?.message].filter(Boolean).join(' / ');
  return { run, error: `${err.name}: ${message}`, ...(await failureEvidence(client, err.workflowId).catch(() => ({}))) };
}

/**
 * Runs `variant` (Baton) and `baseline` alternately, `runs` measured times after one warm-up,
 * and returns wall times in ms plus the history profile of the last pair. A Baton run that fails
 * is recorded (with its error and history) and left out of the statistics; the others go on.
 */
async function interleave(client, log, label, runs, variant, baseline) {
  log(`${label}: warm-up`);
  const failures = [];
  try {
    await variant();
  } catch (err) {
    failures.push(await failure(client, err, 'warm-up'));
    log(`${label}: warm-up: Baton failed: ${failures.at(-1).error}`);
  }
  await baseline();
  const samples = [];
  let last;
  for (let i = 0; i < runs; i++) {
    let b;
    try {
      b = await variant();
    } catch (err) {
      failures.push(await failure(client, err, i + 1));
      log(`${label}: run ${i + 1}/${runs}: Baton failed: ${failures.at(-1).error}`);
      continue;
    }
    const r = await baseline();
    samples.push({ baton: b.ms, raw: r.ms, batonCpu: b.cpu, rawCpu: r.cpu });
    last = { batonId: b.workflowId, rawId: r.workflowId };
    log(`${label}: run ${i + 1}/${runs}: Baton ${(b.ms / 1000).toFixed(2)} s, raw ${(r.ms / 1000).toFixed(2)} s`);
  }
  if (samples.length === 0) throw new Error(`${label}: every Baton run failed: ${failures.map((f) => f.error).join('; ')}`);
  return { samples, last, failures };
}

export async function chainBenchmark({ client, log, phases, runs, config, timeoutMs }) {
  const plan = handlerPlan('bench-chain', phases, chainDeps);
  const { samples, last, failures } = await interleave(
    client,
    log,
    `chain ${phases}`,
    runs,
    () => runBaton(client, plan, config, { timeoutMs }),
    () => runRaw(client, 'rawChain', [phases], { timeoutMs }),
  );
  return { phases, samples, failures, ...summarize(samples), profile: await profile(client, last.batonId, last.rawId, phases) };
}

/**
 * Fan-out: `phases` independent phases, Baton's max_parallel_phases and the baseline's lanes both
 * `parallelism`. Throughput is phases per second of wall time.
 */
export async function fanOutBenchmark({ client, log, phases, parallelism, runs, config, timeoutMs }) {
  const plan = handlerPlan(`bench-fanout-${phases}`, phases, noDeps);
  const cfg = { ...config, max_parallel_phases: parallelism };
  const { samples, last, failures } = await interleave(
    client,
    log,
    `fan-out ${phases}`,
    runs,
    () => runBaton(client, plan, cfg, { timeoutMs }),
    () => runRaw(client, 'rawFanOut', [phases, parallelism], { timeoutMs }),
  );
  const throughput = samples.map((s) => ({ baton: (phases * 1000) / s.baton, raw: (phases * 1000) / s.raw }));
  return {
    phases,
    parallelism,
    samples,
    failures,
    ...summarize(samples),
    throughput: {
      baton: stats(throughput.map((t) => t.baton)),
      raw: stats(throughput.map((t) => t.raw)),
      pairRatio: stats(throughput.map((t) => t.baton / t.raw)),
    },
    profile: await profile(client, last.batonId, last.rawId, phases),
  };
}

/** What the failed run's history says: the failed workflow tasks' causes and messages, and how far it got. */
async function failureEvidence(client, workflowId) {
  if (!workflowId) return {};
  const history = await fetchHistory(client, workflowId);
  const analysis = analyzeHistory(history, 'runPhase');
  const failures = [];
  for (const e of history.events ?? []) {
    const task = e.workflowTaskFailedEventAttributes;
    if (task) failures.push(`workflow task failed (${WorkflowTaskFailedCause[task.cause] ?? task.cause}): ${task.failure?.message ?? ''}`);
    const run = e.workflowExecutionFailedEventAttributes;
    if (run) failures.push(`workflow execution failed: ${run.failure?.message ?? ''}`);
    const terminated = e.workflowExecutionTerminatedEventAttributes;
    if (terminated) failures.push(`workflow execution terminated: ${terminated.reason ?? ''}`);
  }
  return {
    workflowId,
    historyEvents: analysis.events,
    historyBytes: analysis.bytes,
    phasesScheduled: analysis.activities.runPhase?.count ?? 0,
    phasesCompleted: analysis.workCount,
    failureEvents: failures,
  };
}

/**
 * One attempt at a size Baton may not manage, beside `runs` runs (after a warm-up) of the baseline
 * at that size: the outcome, the exact error and what the failed run's history shows.
 */
export async function fanOutAttempt({ client, log, phases, parallelism, runs, config, timeoutMs }) {
  const plan = handlerPlan(`bench-fanout-${phases}`, phases, noDeps);
  const cfg = { ...config, max_parallel_phases: parallelism };
  await runRaw(client, 'rawFanOut', [phases, parallelism], { timeoutMs });
  const rawMs = [];
  for (let i = 0; i < runs; i++) rawMs.push((await runRaw(client, 'rawFanOut', [phases, parallelism], { timeoutMs })).ms);
  const raw = { ms: stats(rawMs), throughput: stats(rawMs.map((ms) => (phases * 1000) / ms)) };
  log(`fan-out ${phases}: raw median ${(raw.ms.median / 1000).toFixed(2)} s`);
  const started = performance.now();
  try {
    const b = await runBaton(client, plan, cfg, { timeoutMs });
    log(`fan-out ${phases} attempt: Baton ${(b.ms / 1000).toFixed(2)} s`);
    return { phases, parallelism, ok: true, batonMs: b.ms, raw };
  } catch (err) {
    const ms = performance.now() - started;
    const message = [err.message, err.cause?.message, err.cause?.cause?.message].filter(Boolean).join(' / ');
    log(`fan-out ${phases} attempt: Baton failed after ${(ms / 1000).toFixed(2)} s: ${message}`);
    return { phases, parallelism, ok: false, error: `${err.name}: ${message}`, failedAfterMs: ms, raw, ...(await failureEvidence(client, err.workflowId)) };
  }
}
