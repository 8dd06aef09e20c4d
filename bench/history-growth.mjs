// Measurement 3: bytes of workflow history per phase when every phase outputs one context value
// of 1 KB, 1 MB or 20 MB (and, as the control, nothing). A chain, so every package after the
// first carries its dependency's output (inline, or as a reference).
import { analyzeHistory, fetchHistory } from './lib/history.mjs';
import { chainDeps, handlerPlan, runBaton, stats } from './lib/runs.mjs';

export const OUTPUT_SIZES = [
  { label: 'none ({})', bytes: 0 },
  { label: '1 KB', bytes: 1024 },
  { label: '1 MB', bytes: 1024 * 1024 },
  { label: '20 MB', bytes: 20 * 1024 * 1024 },
];

export async function historyGrowth({ client, log, phases, runs, config, timeoutMs }) {
  const plans = OUTPUT_SIZES.map((size) =>
    size.bytes === 0
      ? handlerPlan('bench-history-none', phases, chainDeps)
      : handlerPlan(`bench-history-${size.bytes}`, phases, chainDeps, { handler: 'blob', config: () => ({ bytes: size.bytes }) }),
  );
  const results = OUTPUT_SIZES.map(() => []);
  // Warm-up, then the sizes round-robin so drift affects all alike.
  for (let round = 0; round <= runs; round++) {
    for (const [i, size] of OUTPUT_SIZES.entries()) {
      const run = await runBaton(client, plans[i], config, { timeoutMs });
      if (round === 0) continue;
      const h = analyzeHistory(await fetchHistory(client, run.workflowId), 'runPhase');
      results[i].push({ ms: run.ms, bytes: h.bytes, events: h.events, analysis: h });
      log(`history ${size.label}: run ${round}/${runs}: ${h.bytes} B, ${h.events} events, ${(run.ms / 1000).toFixed(2)} s`);
    }
  }
  const control = stats(results[0].map((r) => r.bytes));
  return {
    phases,
    sizes: OUTPUT_SIZES.map((size, i) => {
      const bytes = stats(results[i].map((r) => r.bytes));
      const last = results[i].at(-1).analysis;
      return {
        ...size,
        historyBytes: bytes,
        perPhase: stats(results[i].map((r) => r.bytes / phases)),
        // What the output adds per phase over the control run's history.
        addedPerPhase: (bytes.median - control.median) / phases,
        eventsPerPhase: stats(results[i].map((r) => r.events / phases)),
        wallMsPerPhase: stats(results[i].map((r) => r.ms / phases)),
        bytesByEventType: last.bytesByEventType,
        activities: last.activities,
      };
    }),
  };
}
