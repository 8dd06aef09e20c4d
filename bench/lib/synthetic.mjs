// Phases completed by hand in a run book, for the benchmarks that time Baton's own code outside
// Temporal (bench/phase-costs.mjs, bench/package-build.mjs): what a worker would have reported.

/** Completes `key` now, as a worker `executedBy` would, with its package saved under `workdir`. */
export function completeByHand(book, key, { output = { context: {}, artifacts: {} }, executedBy, contentHash, workdir }) {
  const now = new Date().toISOString();
  book.phase(key).complete({
    output,
    attempts: 1,
    executedBy,
    startedAt: now,
    finishedAt: now,
    contentHash,
    handoffPath: `${workdir}/handoffs/phase_${key}.json`,
    handoffFallback: null,
  });
}
