/**
 * Whether this machine has what a phase needs before it runs: the run's workdir, the plan's
 * directory (a command's cwd), every file its dependencies handed on, and, on a worker of a run
 * that requires signed packages, a signing key. A machine that lacks
 * one (a worker without the shared mount, say) cannot run the phase, but another may: that is a
 * different thing from the phase failing, and is reported as such.
 */
import { stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HandoffPackage } from '../core/handoff/schema.js';
import { SET_A_KEY } from './prepare-handoff.js';
import { signingKeyFromEnv } from './signing.js';
import { dependencyFileProblems, type PackageProblem } from './validate-package.js';
import { workdirMark } from './workdir.js';
import type { VerifiedFiles } from './store/sync.js';

export interface HereCheck {
  /** What this machine lacks, in words; none when it has everything (or what is wrong is not about the machine). */
  missing: string[];
  /** Dependencies' files that are here but not as recorded: the phase cannot run anywhere until they are refreshed. */
  changed: PackageProblem[];
}

async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then((s) => s.isDirectory(), () => false);
}

export interface HereOptions {
  /** This machine seals the package for others (a worker): a run that requires signed packages needs its signing key here. */
  seals?: boolean;
  /** Where the phase's command will run (a command phase only); unset, the plan's directory. */
  cwd?: string;
  /**
   * The workdir is this machine's cache of a store, just filled from it (these are the files the
   * pull verified): it is not the run's own (no mark), and a file missing from it is missing from
   * the store too, for every worker.
   */
  cache?: VerifiedFiles;
  /**
   * The workdir was named for this machine (`execute-phase --workdir`: a copy of the run's, such as
   * a bundle's): it is taken as the run's without its mark.
   */
  named?: boolean;
}

export async function checkHere(pkg: HandoffPackage, workdir: string, opts: HereOptions = {}): Promise<HereCheck> {
  const here = `on this worker (${os.hostname()})`;
  if (opts.seals && pkg.execution_instructions.require_signed === true) {
    const lacking = signingKeyProblem();
    // Before anything else: a worker of the pool without the key must never write an unsigned package.
    if (lacking) return { missing: [`the run requires signed packages (require_signed_packages) and ${lacking} ${here}; ${SET_A_KEY}`], changed: [] };
  }
  if (opts.cache) return checkCache(pkg, workdir, opts.cwd, here, opts.cache);
  if (!(await isDirectory(workdir))) {
    return { missing: [`the run's workdir ${workdir} does not exist ${here}; every worker of the class needs it (a shared filesystem)`], changed: [] };
  }
  if (pkg.execution_instructions.workdir_marked && !opts.named && !existsSync(workdirMark(workdir, pkg.execution_id))) {
    return { missing: [`the run's workdir ${workdir} ${here} is not the run's (no ${path.relative(workdir, workdirMark(workdir, pkg.execution_id))} in it: an empty or local directory where the shared one should be)`], changed: [] };
  }
  const missing: string[] = [];
  const cwdProblem = await cwdMissing(pkg, opts.cwd, here);
  if (cwdProblem) missing.push(cwdProblem);
  const files = await dependencyFileProblems(pkg, workdir);
  const absent = files.filter((p) => p.file === 'missing');
  if (absent.length > 0) missing.push(`${absent.map((p) => p.path).join(', ')}: not in the workdir ${workdir} ${here}`);
  return { missing, changed: files.filter((p) => p.file !== 'missing') };
}

async function cwdMissing(pkg: HandoffPackage, cwd: string | undefined, here: string): Promise<string | undefined> {
  const dir = cwd ?? pkg.execution_instructions.base_dir;
  if (!pkg.execution_instructions.command || !dir || (await isDirectory(dir))) return undefined;
  if (dir === pkg.execution_instructions.base_dir) return `the plan's directory ${dir}, where its commands run, does not exist ${here}; start the worker with --root naming its copy of the code`;
  return `the directory ${dir}, where its commands run (the worker's --root), does not exist ${here}`;
}

/** The checks for a workdir that is a cache of the store: the cwd, and the files (what is missing is missing everywhere). */
async function checkCache(pkg: HandoffPackage, workdir: string, cwd: string | undefined, here: string, verified: VerifiedFiles): Promise<HereCheck> {
  const cwdProblem = await cwdMissing(pkg, cwd, here);
  const files = await dependencyFileProblems(pkg, workdir, verified);
  const changed = files.map((p) => (p.file === 'missing' ? { ...p, message: `${p.message.split(' does not exist')[0]} is in neither this worker's cache nor the store; re-run the phase that produced it` } : p));
  return { missing: cwdProblem ? [cwdProblem] : [], changed };
}

/** Why this machine cannot sign, or undefined when it can. */
function signingKeyProblem(): string | undefined {
  try {
    return signingKeyFromEnv() ? undefined : 'there is no signing key';
  } catch (err) {
    return `its signing key cannot be used (${(err as Error).message})`;
  }
}
