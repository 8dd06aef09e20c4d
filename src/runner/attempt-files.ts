/**
 * The files of one attempt of a phase (its saved package, its logs, what it wrote to BATON_OUTPUT)
 * are named by phase, generation, dispatch and attempt, under the run's own directory, and are
 * never appended to or overwritten: an error quotes its own attempt's stderr, and earlier
 * attempts' files stay as they were. Should a name be taken all the same (a run id used again for
 * a new run, a package run again by hand, an attempt dispatched again after a Reset), the attempt
 * gets the next free name (`….a1.2.stderr.log`) rather than the other's file.
 */
import { access, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { BUILT_IN_RUN_ENV } from '../core/handoff/build.js';
import type { HandoffPackage } from '../core/handoff/schema.js';
import { ensureDir } from './ensure-dir.js';
import { writeFileAtomic } from './handoff-files.js';
import type { RunPaths } from './workdir.js';

/** How many other names to try when an attempt's name is taken. */
export const MAX_SUFFIX = 1000;

export interface AttemptIdentity {
  /** Which dispatch of its generation (more than 1 when an earlier worker was lost). */
  dispatch?: number;
  /** The Temporal run that dispatched this attempt, when a worker runs it. */
  dispatchedIn?: string;
  /** A rollback's files rather than the phase's. */
  compensate?: boolean;
}

/**
 * `phase_<id>.g<generation>[.d<dispatch>][.run-<run>][.compensate].a<attempt>`. `.run-<run>` marks an
 * attempt dispatched by another Temporal run than the one that built its package: an activity that
 * was in flight when its run was Reset, which the server dispatches again, with the same package,
 * in the run the Reset made (whose attempts start again at 1); `<run>` is that run's id.
 */
export function attemptStem(pkg: HandoffPackage, attempt: number, id: AttemptIdentity = {}): string {
  const key = String(pkg.to_phase);
  const dispatch = id.dispatch && id.dispatch > 1 ? `.d${id.dispatch}` : '';
  const builtIn = pkg.execution_instructions.env[BUILT_IN_RUN_ENV];
  const rerun = id.dispatchedIn && builtIn && id.dispatchedIn !== builtIn ? `.run-${id.dispatchedIn}` : '';
  return `phase_${key}.g${pkg.generation}${dispatch}${rerun}${id.compensate ? '.compensate' : ''}.a${attempt}`;
}

function suffixed(stem: string, n: number): string {
  return n === 1 ? stem : `${stem}.${n}`;
}

export interface AttemptLogs {
  stem: string;
  stdoutPath: string;
  stderrPath: string;
  /** What the command may write to BATON_OUTPUT, under the same name. */
  outputPath: string;
}

/**
 * Makes the attempt's two log files, empty and new (never one that exists), and names its
 * BATON_OUTPUT file the same way.
 */
export async function claimAttemptLogs(paths: RunPaths, stem: string): Promise<AttemptLogs> {
  await Promise.all([ensureDir(paths.logs), ensureDir(paths.outputs)]);
  for (let n = 1; n <= MAX_SUFFIX; n++) {
    const name = suffixed(stem, n);
    const stdoutPath = path.join(paths.logs, `${name}.stdout.log`);
    const stderrPath = path.join(paths.logs, `${name}.stderr.log`);
    if (!(await createNew(stderrPath))) continue;
    if (!(await createNew(stdoutPath))) {
      await rm(stderrPath, { force: true });
      continue;
    }
    const outputPath = path.join(paths.outputs, `${name}.json`);
    // Not this attempt's to remove if it is there: take the next name for every file instead.
    if (await exists(outputPath)) {
      await Promise.all([rm(stdoutPath, { force: true }), rm(stderrPath, { force: true })]);
      continue;
    }
    return { stem: name, stdoutPath, stderrPath, outputPath };
  }
  throw new Error(`every name for ${stem}'s logs in ${paths.logs} is taken`);
}

async function createNew(file: string): Promise<boolean> {
  try {
    await (await open(file, 'wx')).close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

/**
 * Commits a phase's accepted output to `outputs/phase_<id>.json` with one rename, unless the file
 * there is a later generation's: a copy of the phase that a Reset left running in the run it
 * replaced may finish after the new run's, and must not put its older output back. Returns the file
 * when it was written.
 */
export async function commitOutput(paths: RunPaths, key: string, generation: number, text: string): Promise<string | undefined> {
  const file = path.join(paths.outputs, `phase_${key}.json`);
  const committed = await readFile(file, 'utf8').then(
    (t) => (JSON.parse(t) as { generation?: unknown }).generation,
    () => undefined,
  );
  if (typeof committed === 'number' && committed > generation) return undefined;
  await writeFileAtomic(file, text);
  return file;
}
