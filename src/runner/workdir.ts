/**
 * Where a run's files live, and keeping every path a phase names inside it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureDir } from './ensure-dir.js';

/** Absolute workdir: a relative workdir resolves against the plan's directory, else this process's cwd. */
export function resolveWorkdir(workdir: string, baseDir: string | null): string {
  return path.resolve(baseDir ?? process.cwd(), workdir);
}

/** Where a run marks the workdir as its own (see ExecutionInstructions.workdir_marked). */
export function workdirMark(workdir: string, executionId: string): string {
  return path.join(workdir, '.baton-runs', executionId);
}

export async function markWorkdir(workdir: string, executionId: string): Promise<void> {
  const mark = workdirMark(workdir, executionId);
  await mkdir(path.dirname(mark), { recursive: true });
  await writeFile(mark, `${new Date().toISOString()}\n`, { flag: 'a' });
}

export interface RunPaths {
  workdir: string;
  handoffs: string;
  logs: string;
  outputs: string;
}

export async function ensureRunPaths(workdir: string): Promise<RunPaths> {
  const paths = {
    workdir,
    handoffs: path.join(workdir, 'handoffs'),
    logs: path.join(workdir, 'logs'),
    outputs: path.join(workdir, 'outputs'),
  };
  // handoffs/ is made when a package is saved: failing to save one is a handoff failure, with its own policy.
  await Promise.all([paths.logs, paths.outputs].map(ensureDir));
  return paths;
}

