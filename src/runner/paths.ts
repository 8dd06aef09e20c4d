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
  const real = realpathOfDeepestExisting(path.resolve(root, relative));
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new PathEscapeError(`"${relative}" resolves to ${real}, outside the workdir ${root}`);
  }
  return real;
}

/**
 * The real path of `p`, resolving symlinks in every part that exists. A missing file is fine
 * (whoever reads it reports that), but a symlinked directory above it must not lead out.
 */
function realpathOfDeepestExisting(p: string): string {
  const missing: string[] = [];
  let existing = p;
  for (;;) {
    try {
      return path.join(realpathSync(existing), ...missing.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return p;
      missing.push(path.basename(existing));
      existing = parent;
    }
  }
}
