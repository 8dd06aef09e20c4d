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
}

export async function checkHere(pkg: HandoffPackage, workdir: string, opts: HereOptions = {}): Promise<HereCheck> {
  const here = `on this worker (${os.hostname()})`;
  if (opts.seals && pkg.execution_instructions.require_signed === true) {
    const lacking = signingKeyProblem();
    // Before anything else: a worker of the pool without the key must never write an unsigned package.
    if (lacking) return { missing: [`the run requires signed packages (require_signed_packages) and ${lacking} ${here}; ${SET_A_KEY}`], changed: [] };
  }
  if (!(await isDirectory(workdir))) {
    return { missing: [`the run's workdir ${workdir} does not exist ${here}; every worker of the class needs it (a shared filesystem)`], changed: [] };
  }
  if (pkg.execution_instructions.workdir_marked && !existsSync(workdirMark(workdir, pkg.execution_id))) {
    return { missing: [`the run's workdir ${workdir} ${here} is not the run's (no ${path.relative(workdir, workdirMark(workdir, pkg.execution_id))} in it: an empty or local directory where the shared one should be)`], changed: [] };
  }
  const missing: string[] = [];
  const cwd = pkg.execution_instructions.base_dir;
  if (pkg.execution_instructions.command && cwd && !(await isDirectory(cwd))) {
    missing.push(`the plan's directory ${cwd}, where its commands run, does not exist ${here}`);
  }
  const files = await dependencyFileProblems(pkg, workdir);
  const absent = files.filter((p) => p.file === 'missing');
  if (absent.length > 0) missing.push(`${absent.map((p) => p.path).join(', ')}: not in the workdir ${workdir} ${here}`);
  return { missing, changed: files.filter((p) => p.file !== 'missing') };
}

/** Why this machine cannot sign, or undefined when it can. */
function signingKeyProblem(): string | undefined {
  try {
    return signingKeyFromEnv() ? undefined : 'there is no signing key';
  } catch (err) {
    return `its signing key cannot be used (${(err as Error).message})`;
  }
}
