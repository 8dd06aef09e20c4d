/**
 * Keeping every path a package or a phase names inside the run's workdir.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';

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
