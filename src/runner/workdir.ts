/**
 * Where a run's files live. The plan's workdir is shared by every run of the plan: the artifacts
 * phases make (relative to it) and the content-addressed context store are there. What belongs to
 * one run (its packages, logs and outputs) is under `<workdir>/runs/<execution_id>/`, so that two
 * runs of one plan, at once or one after the other, never write to each other's files.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureDir } from './ensure-dir.js';

/** Absolute workdir: a relative workdir resolves against the plan's directory, else this process's cwd. */
export function resolveWorkdir(workdir: string, baseDir: string | null): string {
  return path.resolve(baseDir ?? process.cwd(), workdir);
}

/** The folder under the workdir that holds one directory per run. */
export const RUNS_DIR = 'runs';

/** The folder under the workdir that holds each run's continue-as-new archives (activities/archive.ts). */
export const ARCHIVE_DIR = 'archive';

/**
 * A run id as a directory name: any character other than letters, digits, `.`, `_` and `-`
 * becomes `_` (a workflow id may hold anything, `/` included), and `.` or `..` cannot name a parent.
 */
export function runDirName(executionId: string): string {
  const name = executionId.replace(/[^A-Za-z0-9._-]/g, '_');
  return /^\.*$/.test(name) ? `_${name}` : name;
}

/**
 * Where a run marks the workdir as its own before its first phase (see
 * ExecutionInstructions.workdir_marked): `runs/<execution_id>/.opened`.
 */
export function workdirMark(workdir: string, executionId: string): string {
  return path.join(workdir, RUNS_DIR, runDirName(executionId), '.opened');
}

export async function markWorkdir(workdir: string, executionId: string): Promise<void> {
  const mark = workdirMark(workdir, executionId);
  await mkdir(path.dirname(mark), { recursive: true });
  await writeFile(mark, `${new Date().toISOString()}\n`, { flag: 'a' });
}

export interface RunPaths {
  /** The plan's workdir, shared by its runs: artifacts and the context store. */
  workdir: string;
  /** `<workdir>/runs/<execution_id>`: everything below is this run's alone. */
  run: string;
  /** The latest package per phase, `execute_phase_<id>.sh`, and `attempts/` with every attempt's package. */
  handoffs: string;
  /** stdout and stderr of every attempt (and rollback), one file each, never appended to. */
  logs: string;
  /** Each phase's accepted output, and what each attempt wrote to BATON_OUTPUT. */
  outputs: string;
}

export function runPaths(workdir: string, executionId: string): RunPaths {
  const run = path.join(workdir, RUNS_DIR, runDirName(executionId));
  return { workdir, run, handoffs: path.join(run, 'handoffs'), logs: path.join(run, 'logs'), outputs: path.join(run, 'outputs') };
}

export async function ensureRunPaths(workdir: string, executionId: string): Promise<RunPaths> {
  const paths = runPaths(workdir, executionId);
  // handoffs/ is made when a package is saved: failing to save one is a handoff failure, with its own policy.
  await Promise.all([paths.logs, paths.outputs].map(ensureDir));
  return paths;
}

/**
 * Where a run's packages are, for whoever reads them (`baton handoff`, `baton doctor`,
 * `loadHandoff`): its own directory; for a run whose workers wrote packages before runs had
 * directories of their own, `<workdir>/handoffs/` when only that exists.
 */
export function handoffsDirOf(workdir: string, executionId: string): string {
  const own = runPaths(workdir, executionId).handoffs;
  const legacy = path.join(workdir, 'handoffs');
  return !existsSync(own) && existsSync(legacy) ? legacy : own;
}
