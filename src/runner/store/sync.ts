/**
 * The workdir as a cache of the store. When BATON_STORE names a store, every machine keeps the
 * run's files in its own local workdir, and the store is where they meet: whoever reads a file a
 * package references pulls it first (`pull*`: fetched by its hash into the local workdir unless the
 * local copy already has that hash), and whoever makes one pushes it before reporting (`push*`).
 * The code that reads and writes the workdir stays as it is; these calls put the store around it.
 *
 * Keys: a file's content lives at `content/sha256/…` (artifacts, values stored by reference); the
 * files of one run (packages, logs, outputs, archives, execution_context.json) under the same
 * relative path they have in the workdir, `runs/<run>/…`.
 *
 * Without BATON_STORE there is no store apart from the workdir, and none of this runs.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isContextRef, type ArtifactRef, type HandoffPackage, type PhaseContext } from '../../core/handoff/schema.js';
import { confinedPath, PathEscapeError } from '../paths.js';
import { ARCHIVE_DIR, RUNS_DIR, runDirName } from '../workdir.js';
import { StoreError } from './errors.js';
import { openStore, type OpenStoreOptions } from './open-store.js';
import { sha256OfFile, type Store } from './store.js';

const opened = new Map<string, Store>();

/**
 * The run's store: `runStore` (its config's `store`) when it names one, else the one BATON_STORE
 * names, else undefined (the workdir is the store). One Store per location per process: S3 clients
 * keep their connections.
 */
export function configuredStore(runStore?: string | null, env: NodeJS.ProcessEnv = process.env, options: OpenStoreOptions = {}): Store | undefined {
  const location = runStore?.trim() || env.BATON_STORE?.trim();
  if (!location) return undefined;
  let store = opened.get(location);
  if (!store) {
    store = openStore(location, { ...options, env });
    opened.set(location, store);
  }
  return store;
}

/**
 * Where a machine that is not the run's keeps its copy of the run's workdir: a directory of its
 * own under `cacheRoot` (BATON_CACHE, else ~/.cache/baton), one per workdir the plan names, so
 * that runs of one plan share their cache as they share their workdir.
 */
export function cachedWorkdir(pkg: Pick<HandoffPackage, 'execution_instructions'>, cacheRoot = defaultCacheRoot()): string {
  const { workdir, base_dir } = pkg.execution_instructions;
  const named = path.posix.join(base_dir ?? '', workdir);
  const tag = createHash('sha256').update(named).digest('hex').slice(0, 12);
  const readable = runDirName(path.basename(base_dir ?? '') || 'workdir');
  return path.join(cacheRoot, 'workdirs', `${readable}-${tag}`);
}

export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.BATON_CACHE?.trim();
  if (configured) return path.resolve(configured);
  const xdg = env.XDG_CACHE_HOME?.trim();
  return path.join(xdg || path.join(os.homedir(), '.cache'), 'baton');
}

/** How many files one call moves at once: requests overlap, without a file handle per artifact of a large output. */
export const TRANSFERS_AT_ONCE = 8;

/** Runs `work` on every item, TRANSFERS_AT_ONCE at a time; the first failure is thrown once all started have ended. */
export async function eachAtOnce<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(TRANSFERS_AT_ONCE, items.length) }, lane));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A file one context references: an artifact, or a value stored by reference. */
export interface ReferencedFile {
  /** Where in the package or output, for messages (`phase 3's artifact "report"`). */
  what: string;
  /** Relative to the workdir. */
  path: string;
  sha256: string;
  size: number;
}

/** Every file a phase context references (its artifacts, then its values stored by reference); `owner` names it in messages. */
export function contextFiles(context: PhaseContext, owner = "the output's"): ReferencedFile[] {
  const files: ReferencedFile[] = Object.entries(context.artifacts).map(([name, ref]: [string, ArtifactRef]) => ({ what: `${owner} artifact "${name}"`, ...ref }));
  for (const [name, value] of Object.entries(context.context)) {
    if (isContextRef(value)) files.push({ what: `${owner} context "${name}"`, ...value.$baton_ref });
  }
  return files;
}

/**
 * Files a pull has just found or made as recorded in a workdir, as verifiedFile names them: the
 * checks after it (contextFileProblems) need not read them again.
 */
export type VerifiedFiles = Set<string>;

export function verifiedFile(file: { sha256: string; path: string }): string {
  return `${file.sha256}:${file.path}`;
}

/**
 * Makes the local copy of every file `context` references present and as recorded, fetching from
 * the store what is missing here or differs; adds each one that now is to `verified`. What the store
 * does not have either, or a path outside the workdir, is left for the checks that follow, which
 * name it; a store that cannot be reached is a StoreError.
 */
export async function pullContext(store: Store, workdir: string, context: PhaseContext, owner: string, verified: VerifiedFiles = new Set()): Promise<VerifiedFiles> {
  await eachAtOnce(contextFiles(context, owner), async (file) => {
    if (await pullFile(store, workdir, file)) verified.add(verifiedFile(file));
  });
  return verified;
}

/** Whether the file is now in the workdir as recorded. */
async function pullFile(store: Store, workdir: string, file: ReferencedFile): Promise<boolean> {
  let local: string;
  try {
    local = confinedPath(workdir, file.path);
  } catch (err) {
    if (err instanceof PathEscapeError) return false;
    throw err;
  }
  const here = await sha256OfFile(local).catch(() => undefined);
  if (here?.sha256 === file.sha256 && here.size === file.size) return true;
  try {
    await store.getContentFile(file.sha256, local); // checked by hash as it is written
    return true;
  } catch (err) {
    if (err instanceof StoreError && err.problem === 'missing') return false;
    throw err;
  }
}

/** Every input a package references (its dependencies' files, and the plan's shared artifacts), pulled into `workdir`. */
export async function pullPackageInputs(store: Store, pkg: HandoffPackage, workdir: string): Promise<VerifiedFiles> {
  await mkdir(workdir, { recursive: true });
  const verified: VerifiedFiles = new Set();
  for (const [key, context] of Object.entries(pkg.dependency_contexts)) await pullContext(store, workdir, context, `phase ${key}'s`, verified);
  if (pkg.previous_phase_context && pkg.from_phase !== null && !pkg.dependency_contexts[String(pkg.from_phase)]) {
    await pullContext(store, workdir, pkg.previous_phase_context, `phase ${String(pkg.from_phase)}'s`, verified);
  }
  if (Object.keys(pkg.shared_artifacts).length > 0) await pullSharedArtifacts(store, pkg.execution_id, workdir);
  return verified;
}

/**
 * Stores every file `context` references from the local workdir, checked against the recorded
 * hash as it is read: a file changed since the phase reported it is refused, not stored.
 */
export async function pushContext(store: Store, workdir: string, context: PhaseContext, owner: string): Promise<void> {
  await eachAtOnce(contextFiles(context, owner), async (file) => {
    if (await store.hasContent(file.sha256)) return;
    const ref = await store.putContentFile(confinedPath(workdir, file.path));
    if (ref.sha256 !== file.sha256) {
      throw new StoreError('wrong-hash', `${file.what} at ${file.path} changed while it was being stored (sha256 ${ref.sha256.slice(0, 12)}…, recorded ${file.sha256.slice(0, 12)}…)`, 'leave a phase\'s files alone once it has reported them');
    }
  });
}

/** The folders of the workdir that hold runs' own files: one per run, and continue-as-new archives. */
const RUN_FILE_DIRS = [RUNS_DIR, ARCHIVE_DIR];

/** The store key of one of a run's own files, from its path in the workdir (`runs/<run>/logs/…`, `archive/<run>/…`). */
export function runFileKey(workdir: string, file: string): string {
  const relative = path.relative(workdir, file).split(path.sep).join('/');
  if (relative.startsWith('..') || path.isAbsolute(relative) || !RUN_FILE_DIRS.some((dir) => relative.startsWith(`${dir}/`))) {
    throw new StoreError('invalid-key', `${file} is not one of a run's files under ${path.join(workdir, RUNS_DIR)}`, 'store only files under runs/<run>/ by key');
  }
  return relative;
}

/** One of a run's own files in the store: `runs/<run>/<parts…>`, the run's folder as in the workdir (see runPaths). */
export function runKey(executionId: string, ...parts: string[]): string {
  return [RUNS_DIR, runDirName(executionId), ...parts].join('/');
}

/** Where a run's execution_context.json is kept: `runs/<run>/execution_context.json` (the workdir's copy is the latest run's). */
export function executionContextKey(executionId: string): string {
  return runKey(executionId, 'execution_context.json');
}

/** Stores one of a run's files (a log, a package, an output) under its path in the workdir. */
export async function pushRunFile(store: Store, workdir: string, file: string): Promise<void> {
  await store.putFile(runFileKey(workdir, file), file);
}

/** The local copy of one of a run's files, fetched when this machine has none; false when the store has none either. */
export async function pullRunFile(store: Store, workdir: string, file: string): Promise<boolean> {
  const key = runFileKey(workdir, file);
  try {
    await store.getFile(key, file);
    return true;
  } catch (err) {
    if (err instanceof StoreError && err.problem === 'missing') return false;
    throw err;
  }
}

/** Where `baton run` records the plan's shared artifacts for a run: `runs/<run>/shared-artifacts.json`. */
export function sharedArtifactsKey(executionId: string): string {
  return runKey(executionId, 'shared-artifacts.json');
}

/**
 * Stores the files a plan ships (`shared_artifacts`, relative to the workdir) and records them for
 * the run by path and hash, so a worker with nothing but the store has them. Called by `baton run`
 * on the machine that has them; returns the references.
 */
export async function pushSharedArtifacts(store: Store, workdir: string, executionId: string, shared: Record<string, string>): Promise<Record<string, ArtifactRef>> {
  const refs: Record<string, ArtifactRef> = {};
  for (const [name, relative] of Object.entries(shared)) {
    let file: string;
    try {
      file = confinedPath(workdir, relative);
    } catch (err) {
      throw new StoreError('local-file', `shared artifact "${name}": ${(err as Error).message}`, 'name files inside the workdir in shared_artifacts');
    }
    const stored = await store.putContentFile(file).catch((err: unknown) => {
      if (err instanceof StoreError) throw err;
      throw new StoreError('local-file', `shared artifact "${name}" is ${relative}, which cannot be read in the workdir ${workdir} (${(err as Error).message})`, 'create it before the run starts, or remove it from shared_artifacts');
    });
    refs[name] = { path: relative, sha256: stored.sha256, size: stored.size };
  }
  await store.put(sharedArtifactsKey(executionId), `${JSON.stringify(refs, null, 2)}\n`);
  return refs;
}

/**
 * The plan's shared artifacts `baton run` recorded for the run, or undefined when it recorded none
 * (a run started from the Temporal CLI: its shared files are where the plan put them).
 */
export async function storedSharedArtifacts(store: Store, executionId: string): Promise<Record<string, ArtifactRef> | undefined> {
  try {
    return JSON.parse((await store.get(sharedArtifactsKey(executionId))).toString('utf8')) as Record<string, ArtifactRef>;
  } catch (err) {
    if (err instanceof StoreError && err.problem === 'missing') return undefined;
    throw err;
  }
}

async function pullSharedArtifacts(store: Store, executionId: string, workdir: string): Promise<void> {
  const manifest = await storedSharedArtifacts(store, executionId);
  if (manifest) await pullContext(store, workdir, { context: {}, artifacts: manifest }, 'the plan\'s shared');
}
