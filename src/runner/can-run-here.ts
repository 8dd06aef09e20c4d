/**
 * Whether this machine has what a phase needs before it runs: the run's workdir, the plan's
 * directory (a command's cwd), and every file its dependencies handed on. A machine that lacks
 * one (a worker without the shared mount, say) cannot run the phase, but another may: that is a
 * different thing from the phase failing, and is reported as such.
 */
import { stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HandoffPackage } from '../core/handoff/schema.js';
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

export async function checkHere(pkg: HandoffPackage, workdir: string): Promise<HereCheck> {
  const here = `on this worker (${os.hostname()})`;
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
