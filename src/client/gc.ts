/**
 * `baton gc`: removes from the store the files of runs past a retention period, and the content no
 * run that is kept references. A mark and sweep over the store alone, with Temporal asked only which
 * runs are live:
 *
 * - a run is kept while it is live (running in Temporal), while anything of it is newer than the
 *   cutoff, or while a kept run reuses its phases (`--resume-from`: `reused_from` in the kept run's
 *   execution_context.json), however old;
 * - a content object is kept while a kept run's records (its outputs, packages, archives, shared
 *   artifacts and execution_context.json) name its hash, or while it is newer than the cutoff (a
 *   phase still running stores its files before its run records them).
 *
 * Nothing is removed when Temporal cannot say which runs are live.
 */
import type { Client } from '@temporalio/client';
import { statusQuery } from '../core/api/definitions.js';
import { ARCHIVE_DIR, runDirName, RUNS_DIR } from '../runner/workdir.js';
import type { Store, StoredObject } from '../runner/store/store.js';

export interface GcOptions {
  /** Runs and content older than this many milliseconds may go. */
  olderThanMs: number;
  /** Say what would be removed, remove nothing. */
  dryRun: boolean;
  now?: Date;
}

export interface GcReport {
  removedRuns: string[];
  keptRuns: Array<{ run: string; why: string }>;
  removedContent: number;
  removedContentBytes: number;
  keptContent: number;
  removedObjects: number;
}

interface RunRecord {
  /** The folder under runs/ (the run id, made safe as a file name). */
  dir: string;
  objects: StoredObject[];
  newest: number;
}

const HASH_FIELD = /"sha256"\s*:\s*"([0-9a-f]{64})"/g;
const REUSED_FROM = /"reused_from"\s*:\s*"((?:[^"\\]|\\.)*)"/g;

/** Objects of a run whose text names the content and runs it depends on. */
function isRecord(key: string): boolean {
  return key.endsWith('.json') && !/\/logs\//.test(key);
}

export async function collectGarbage(store: Store, client: Client, opts: GcOptions): Promise<GcReport> {
  const cutoff = (opts.now ?? new Date()).getTime() - opts.olderThanMs;
  const runs = new Map<string, RunRecord>();
  const archives = new Map<string, StoredObject[]>();
  const content: StoredObject[] = [];
  for await (const object of store.list('')) {
    const [top, dir] = object.key.split('/');
    if (top === 'content') content.push(object);
    else if (top === RUNS_DIR && dir) {
      const record = runs.get(dir) ?? { dir, objects: [], newest: 0 };
      record.objects.push(object);
      record.newest = Math.max(record.newest, object.modified?.getTime() ?? Date.now());
      runs.set(dir, record);
    } else if (top === ARCHIVE_DIR && dir) {
      archives.set(dir, [...(archives.get(dir) ?? []), object]);
    }
  }

  // Which runs are kept, and why; then the runs they reuse, transitively.
  const kept = new Map<string, string>();
  /** What live runs say of themselves (their status): a live run may not have stored all of it yet. */
  const liveStatus = new Map<string, string>();
  for (const record of runs.values()) {
    if (await isLive(client, record.dir)) {
      kept.set(record.dir, 'live');
      liveStatus.set(record.dir, JSON.stringify(await client.workflow.getHandle(record.dir).query(statusQuery)));
    } else if (record.newest >= cutoff) kept.set(record.dir, 'newer than the cutoff');
  }
  const references = new Map<string, { hashes: Set<string>; reuses: Set<string> }>();
  const referencesOf = async (dir: string) => {
    let refs = references.get(dir);
    if (refs) return refs;
    refs = { hashes: new Set(), reuses: new Set() };
    const objects = [...(runs.get(dir)?.objects ?? []), ...(archives.get(dir) ?? [])];
    const texts = [liveStatus.get(dir) ?? ''];
    for (const object of objects.filter((o) => isRecord(o.key))) texts.push((await store.get(object.key)).toString('utf8'));
    for (const text of texts) {
      for (const m of text.matchAll(HASH_FIELD)) refs.hashes.add(m[1]!);
      for (const m of text.matchAll(REUSED_FROM)) refs.reuses.add(runDirName(JSON.parse(`"${m[1]!}"`) as string));
    }
    references.set(dir, refs);
    return refs;
  };
  const queue = [...kept.keys()];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    for (const reused of (await referencesOf(dir)).reuses) {
      if (reused !== dir && runs.has(reused) && !kept.has(reused)) {
        kept.set(reused, `reused by run ${dir} (--resume-from)`);
        queue.push(reused);
      }
    }
  }
  const live = new Set<string>();
  for (const dir of kept.keys()) for (const hash of (await referencesOf(dir)).hashes) live.add(hash);

  const report: GcReport = { removedRuns: [], keptRuns: [...kept].map(([run, why]) => ({ run, why })), removedContent: 0, removedContentBytes: 0, keptContent: 0, removedObjects: 0 };
  const remove = async (key: string) => {
    report.removedObjects += 1;
    if (!opts.dryRun) await store.delete(key);
  };
  for (const record of runs.values()) {
    if (kept.has(record.dir)) continue;
    report.removedRuns.push(record.dir);
    for (const object of [...record.objects, ...(archives.get(record.dir) ?? [])]) await remove(object.key);
  }
  for (const object of content) {
    const hash = object.key.split('/').pop() ?? '';
    if (live.has(hash) || (object.modified?.getTime() ?? Date.now()) >= cutoff) {
      report.keptContent += 1;
      continue;
    }
    report.removedContent += 1;
    report.removedContentBytes += object.size;
    await remove(object.key);
  }
  report.removedRuns.sort();
  return report;
}

/**
 * Whether the run of that folder is running in Temporal. The folder is the run id made safe as a
 * file name, which is the id itself for every id `baton run` makes. A Temporal that cannot be asked
 * stops gc: it must never remove a live run's files.
 */
async function isLive(client: Client, dir: string): Promise<boolean> {
  try {
    const described = await client.workflow.getHandle(dir).describe();
    return described.status.name === 'RUNNING';
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'WorkflowNotFoundError') return false;
    throw new Error(`baton gc could not ask Temporal whether run ${dir} is live (${(err as Error).message}), so it removed nothing; check TEMPORAL_ADDRESS and try again`);
  }
}

/** Reads a retention such as `30d`, `12h`, `90m`, `45s` (or plain seconds). */
export function parseRetention(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(d|h|m|s)?$/.exec(text.trim());
  if (!m) throw new Error(`--older-than takes a duration such as 30d, 12h, 90m or 45s, not "${text}"`);
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[(m[2] ?? 's') as 'd' | 'h' | 'm' | 's'];
  return Number(m[1]) * unit;
}
