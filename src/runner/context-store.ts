/**
 * The guide's ContextManager, on the worker side: large context values leave the phase's
 * output for a content-addressed store under the workdir and travel as references; they are
 * put back (and their hashes checked) before a dependant reads them.
 *
 * An output of many keys (more than MAX_SEPARATE_REFS to store) stores those that do not stay inline
 * together, as one value under the key `$baton_keys`, put back among its keys before anyone reads them.
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
/**
 * Past this many values to store, an output's values that do not stay inline are stored together,
 * as one value under GROUP_KEY: an output of 30,000 small keys is one file and one reference, not
 * 30,000 of each (whose references alone were 4.5 MB, more than Temporal takes in a result).
 */
export const MAX_SEPARATE_REFS = 16;
/** A key whose name is longer than this never stays in the context itself: it goes with the group. */
export const MAX_INLINE_KEY_BYTES = 128;
/** The context key that holds, by reference, the keys of an output that are stored together. */
export const GROUP_KEY = '$baton_keys';

export class ContextUnavailableError extends Error {
  override name = 'ContextUnavailableError';
}

/** A value to write to the context store, once everything else about the output has been checked. */
export interface PendingValue {
  relative: string;
  json: string;
}

export interface PlannedContext {
  /** The context as it travels: small values inline, the rest as references. */
  context: Record<string, unknown>;
  /** What the references point to, still to be written (storeValues). */
  pending: PendingValue[];
}

/**
 * Which of an output's values stay inline and which go to the store, without writing anything:
 * a phase that fails after this (its report too big, its run cancelled) leaves no files behind.
 */
export function planContext(context: Record<string, unknown>): PlannedContext {
  const sized = Object.entries(context).map(([key, value]) => {
    const json = JSON.stringify(value) ?? 'null';
    const keyBytes = Buffer.byteLength(JSON.stringify(key));
    // `"key":value,` as it stands in the context's JSON.
    return { key, value, json, keyBytes, bytes: Buffer.byteLength(json), cost: keyBytes + Buffer.byteLength(json) + 2 };
  });
  const toStore = new Set(sized.filter((e) => e.bytes > INLINE_LIMIT_BYTES || e.keyBytes > MAX_INLINE_KEY_BYTES).map((e) => e.key));
  let inlineBytes = sized.reduce((sum, e) => sum + (toStore.has(e.key) ? 0 : e.cost), 0);
  // Still too much inline (many medium values, or many keys): move the largest out until it fits.
  for (const e of [...sized].sort((a, b) => b.cost - a.cost)) {
    if (inlineBytes <= INLINE_BUDGET_BYTES) break;
    if (toStore.has(e.key)) continue;
    toStore.add(e.key);
    inlineBytes -= e.cost;
  }
  const stored = sized.filter((e) => toStore.has(e.key));
  const grouped = stored.length > MAX_SEPARATE_REFS || stored.some((e) => e.keyBytes > MAX_INLINE_KEY_BYTES);
  const out: Record<string, unknown> = {};
  const pending: PendingValue[] = [];
  const refer = (json: string): ContextRef => {
    const { ref, value } = contentAddress(json);
    pending.push(value);
    return ref;
  };
  for (const e of sized) {
    if (!toStore.has(e.key)) put(out, e.key, e.value);
    else if (!grouped) put(out, e.key, refer(e.json));
  }
  if (grouped) {
    // One JSON object of the stored keys, built from their serialized values (never parsed again).
    const json = `{${stored.map((e) => `${JSON.stringify(e.key)}:${e.json}`).join(',')}}`;
    out[GROUP_KEY] = refer(json);
  }
  return { context: out, pending };
}

function contentAddress(json: string): { ref: ContextRef; value: PendingValue } {
  const bytes = Buffer.from(json);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const relative = path.posix.join('context-store', sha256.slice(0, 2), `${sha256}.json`);
  return { ref: { $baton_ref: { sha256, size: bytes.length, path: relative } }, value: { relative, json } };
}

/** Writes planned values to the store (each once: a file of the right size is already that value). */
export async function storeValues(workdir: string, pending: PendingValue[]): Promise<void> {
  for (const { relative, json } of pending) {
    const file = path.join(workdir, relative);
    const existing = await stat(file).catch(() => undefined);
    if (existing?.size === Buffer.byteLength(json)) continue;
    await ensureDir(path.dirname(file));
    await writeFileAtomic(file, json);
  }
}

export async function offloadContext(workdir: string, context: Record<string, unknown>): Promise<Record<string, unknown>> {
  const planned = planContext(context);
  await storeValues(workdir, planned.pending);
  return planned.context;
}

export async function hydrateContext(workdir: string, context: Record<string, unknown>, owner: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (key === GROUP_KEY && isContextRef(value)) {
      const group = await loadValue(workdir, value, `${owner} context's keys stored together`);
      if (typeof group !== 'object' || group === null || Array.isArray(group)) {
        throw new ContextUnavailableError(`${owner} context's keys stored together at ${value.$baton_ref.path} are not an object`);
      }
      for (const [k, v] of Object.entries(group)) put(out, k, v);
    } else {
      put(out, key, isContextRef(value) ? await loadValue(workdir, value, `${owner} context "${key}"`) : value);
    }
  }
  return out;
}

/** An own property whatever its name (`__proto__` included, which plain assignment would take for the prototype). */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
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
