// Phase handlers the benchmark plans use, registered with the in-process phase worker
// (the same functions would work in a module passed to `baton worker --handlers`).

/** The no-op phase: returns no output. */
export async function noop() {
  return {};
}

/**
 * Outputs one context value whose JSON is `phase_config.bytes` long (a string), different for
 * every run and phase so the context store cannot deduplicate it.
 */
export async function blob({ handoff }) {
  const bytes = Number(handoff.phase_config.bytes);
  const head = `${handoff.execution_id}:${String(handoff.to_phase)}:`;
  const length = Math.max(0, bytes - 2); // the two quotes of the JSON string
  return { context: { blob: (head + 'x'.repeat(Math.max(0, length - head.length))).slice(0, length) } };
}

export default { noop, blob };
