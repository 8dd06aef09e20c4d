/**
 * Where a run's files live, and keeping every path a phase names inside it.
 */
import { realpathSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

/** Absolute workdir: a relative workdir resolves against the plan's directory, else this process's cwd. */
export function resolveWorkdir(workdir: string, baseDir: string | null): string {
  return path.resolve(baseDir ?? process.cwd(), workdir);
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
  await Promise.all([paths.handoffs, paths.logs, paths.outputs].map((dir) => mkdir(dir, { recursive: true })));
  return paths;
}

export class PathEscapeError extends Error {
  override name = 'PathEscapeError';
}

/**
 * Resolves `relative` inside `workdir`, following symlinks, and refuses anything that ends up
 * outside it: a phase may only hand on files that every later phase and agent can find.
 */
export function confinedPath(workdir: string, relative: string): string {
  if (path.isAbsolute(relative)) {
    throw new PathEscapeError(`"${relative}" is an absolute path; artifact paths are relative to the workdir`);
  }
  const root = realpathSync(workdir);
  const candidate = path.resolve(root, relative);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    real = candidate; // a missing file is reported by whoever reads it; only escapes matter here
  }
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new PathEscapeError(`"${relative}" resolves to ${real}, outside the workdir ${root}`);
  }
  return real;
}
