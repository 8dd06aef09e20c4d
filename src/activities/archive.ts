/**
 * Archive files of a run that continues as new: the full status and output of the phases it
 * finished, kept under the workdir so the state it carries stays small. Read back when a phase
 * needs an archived output (a retry, a transitive context) and when the final
 * execution_context.json is written.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { failure } from '../core/api/failures.js';
import type { PhaseContext } from '../core/handoff/schema.js';
import type { PhaseStatus, RunStatus } from '../core/api/status.js';
import { writeFileAtomic } from '../runner/handoff-files.js';
import { ARCHIVE_DIR, resolveWorkdir } from '../runner/workdir.js';
import { configuredStore, pullRunFile, runFileKey } from '../runner/store/sync.js';

/** A store that fails an archive: ArchiveUnavailable, which is retried. */
function storeFailure(doing: string): (err: unknown) => never {
  return (err) => {
    throw failure('ArchiveUnavailable', `could not ${doing} the store: ${(err as Error).message}`);
  };
}

export type ArchiveEntries = Record<string, { status: PhaseStatus; output?: PhaseContext }>;

/** Writes one segment's archive and returns its path relative to the workdir. */
export async function archivePhases(executionId: string, segment: number, entries: ArchiveEntries, workdir: string, baseDir: string | null, runStore?: string): Promise<string> {
  const dir = resolveWorkdir(workdir, baseDir);
  // The run id names a directory: keep it to a plain file name whatever characters it has.
  const relative = path.join(ARCHIVE_DIR, executionId.replace(/[^A-Za-z0-9._-]/g, '_'), `segment-${segment}.json`);
  await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
  await writeFileAtomic(path.join(dir, relative), JSON.stringify({ execution_id: executionId, segment, phases: entries }));
  const store = configuredStore(runStore);
  if (store) await store.putFile(runFileKey(dir, path.join(dir, relative)), path.join(dir, relative)).catch(storeFailure('store the archive in'));
  return relative;
}

async function readArchive(dir: string, relative: string, runStore: string | undefined): Promise<ArchiveEntries> {
  const file = path.resolve(dir, relative);
  // With a store, another orchestrator worker may have written it: this machine's copy comes from there.
  const store = configuredStore(runStore);
  if (store && !existsSync(file)) await pullRunFile(store, dir, file).catch(storeFailure('fetch the archive from'));
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { phases: ArchiveEntries }).phases;
  } catch (err) {
    throw failure('ArchiveUnavailable', `cannot read the run's archive ${file}: ${(err as Error).message}; the orchestrator worker needs the run's workdir as it was`);
  }
}

/** The archived outputs of the given phases, newest archive first (a phase may be archived twice). */
export async function archivedOutputs(archives: string[], keys: string[], workdir: string, baseDir: string | null, store?: string): Promise<Record<string, PhaseContext>> {
  const dir = resolveWorkdir(workdir, baseDir);
  const wanted = new Set(keys);
  const found: Record<string, PhaseContext> = {};
  for (const relative of [...archives].reverse()) {
    if (wanted.size === 0) break;
    const entries = await readArchive(dir, relative, store);
    for (const key of [...wanted]) {
      const output = entries[key]?.output;
      if (output) {
        found[key] = output;
        wanted.delete(key);
      }
    }
  }
  if (wanted.size > 0) {
    throw failure('ArchiveUnavailable', `no archived output for phase ${[...wanted].join(', ')}`);
  }
  return found;
}

/** The status with every archived phase's full entry put back, for the final execution_context.json. */
export async function withArchivedDetails(status: RunStatus, workdir: string, baseDir: string | null, store?: string): Promise<RunStatus> {
  const archives = status.continued?.archives ?? [];
  if (archives.length === 0) return status;
  const dir = resolveWorkdir(workdir, baseDir);
  const phases = { ...status.phases };
  for (const relative of archives) {
    for (const [key, entry] of Object.entries(await readArchive(dir, relative, store))) {
      // Only phases still archived: one run again since carries its newer status.
      if (phases[key]?.archived) phases[key] = { ...entry.status, ...(entry.output ? { context: entry.output } : {}), archived: true };
    }
  }
  return { ...status, phases };
}
