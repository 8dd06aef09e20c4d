/**
 * The guide's ContextManager, on the worker side: large context values leave the phase's
 * output for a content-addressed store under the workdir and travel as references; they are
 * put back (and their hashes checked) before a dependant reads them.
 *
 * Why not the SDK's external payload storage: it offloads whole payloads but hands the full
 * value back to the workflow, which would hold every large output in memory and copy it
 * into each dependant's package. References keep the workflow and its history small.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isContextRef, type ContextRef, type HandoffPackage, type PhaseContext } from '../core/handoff/schema.js';
import { ensureDir } from './ensure-dir.js';
import { writeFileAtomic } from './handoff-files.js';
import { confinedPath } from './paths.js';

/**
 * What of an output stays inline, serialized: each value up to 1 KiB, and 1 KiB in all (the
 * largest values go first). An inline value is recorded about three times in history (the phase's
 * result, each dependant's package, the run's final status) beside ~4.5 KB of fixed cost per
 * phase, so this bound is what keeps history at most 8 KB per phase whatever phases output.
 * Counts, flags, ids and short strings stay inline; the rest is stored once and referenced.
 */
export const INLINE_LIMIT_BYTES = 1024;
export const INLINE_BUDGET_BYTES = 1024;

export class ContextUnavailableError extends Error {
  override name = 'ContextUnavailableError';
}

export async function offloadContext(workdir: string, context: Record<string, unknown>): Promise<Record<string, unknown>> {
  const sized = Object.entries(context).map(([key, value]) => {
    const json = JSON.stringify(value) ?? 'null';
    return { key, value, json, bytes: Buffer.byteLength(json) };
  });
  let inlineBytes = sized.reduce((sum, e) => sum + e.bytes, 0);
  const toStore = new Set(sized.filter((e) => e.bytes > INLINE_LIMIT_BYTES).map((e) => e.key));
  for (const e of sized) if (toStore.has(e.key)) inlineBytes -= e.bytes;
  // Still too much inline (many medium values): move the largest out until it fits.
  for (const e of [...sized].sort((a, b) => b.bytes - a.bytes)) {
    if (inlineBytes <= INLINE_BUDGET_BYTES) break;
    if (toStore.has(e.key)) continue;
    toStore.add(e.key);
    inlineBytes -= e.bytes;
  }
  const out: Record<string, unknown> = {};
  for (const e of sized) out[e.key] = toStore.has(e.key) ? await storeValue(workdir, e.json) : e.value;
  return out;
}

async function storeValue(workdir: string, json: string): Promise<ContextRef> {
  const bytes = Buffer.from(json);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const relative = path.posix.join('context-store', sha256.slice(0, 2), `${sha256}.json`);
  const file = path.join(workdir, relative);
  const existing = await stat(file).catch(() => undefined);
  if (existing?.size !== bytes.length) {
    await ensureDir(path.dirname(file));
    await writeFileAtomic(file, json);
  }
  return { $baton_ref: { sha256, size: bytes.length, path: relative } };
}

export async function hydrateContext(workdir: string, context: Record<string, unknown>, owner: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    out[key] = isContextRef(value) ? await loadValue(workdir, value, `${owner} context "${key}"`) : value;
  }
  return out;
}

async function loadValue(workdir: string, ref: ContextRef, what: string): Promise<unknown> {
  const { path: relative, sha256 } = ref.$baton_ref;
  let bytes: Buffer;
  try {
    bytes = await readFile(confinedPath(workdir, relative));
  } catch (err) {
    throw new ContextUnavailableError(`${what} is stored at ${relative} in the workdir, which cannot be read (${(err as Error).message}); every worker needs the run's workdir`);
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) {
    throw new ContextUnavailableError(`${what} at ${relative} has sha256 ${actual.slice(0, 12)}…, not ${sha256.slice(0, 12)}… as recorded: the file was changed after the phase finished`);
  }
  return JSON.parse(bytes.toString('utf8'));
}

export function packageHasRefs(pkg: HandoffPackage): boolean {
  const contexts = [pkg.previous_phase_context, ...Object.values(pkg.dependency_contexts)];
  return contexts.some((c) => c !== null && Object.values(c.context).some(isContextRef));
}

/** The package with every context reference replaced by its value: what a phase actually reads. */
export async function hydratePackage(pkg: HandoffPackage, workdir: string): Promise<HandoffPackage> {
  const hydrate = async (key: string, c: PhaseContext): Promise<PhaseContext> => ({
    ...c,
    context: await hydrateContext(workdir, c.context, `phase ${key}'s`),
  });
  const dependency_contexts: Record<string, PhaseContext> = {};
  for (const [key, c] of Object.entries(pkg.dependency_contexts)) dependency_contexts[key] = await hydrate(key, c);
  const previous = pkg.previous_phase_context && pkg.from_phase !== null
    ? (dependency_contexts[String(pkg.from_phase)] ?? (await hydrate(String(pkg.from_phase), pkg.previous_phase_context)))
    : null;
  return { ...pkg, dependency_contexts, previous_phase_context: previous };
}
