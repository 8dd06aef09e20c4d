/**
 * retryPhase with `refresh`: take the dependencies' files as they are now. A phase is otherwise
 * pinned to the exact files (by hash) its dependencies produced.
 */
import { failure } from '../core/api/failures.js';
import type { PhaseContext } from '../core/handoff/schema.js';
import { artifactRefs } from '../runner/artifacts.js';
import { resolveWorkdir } from '../runner/workdir.js';

export async function refreshArtifacts(outputs: Record<string, PhaseContext>, workdir: string, baseDir: string | null): Promise<Record<string, PhaseContext>> {
  const dir = resolveWorkdir(workdir, baseDir);
  const refreshed: Record<string, PhaseContext> = {};
  for (const [key, output] of Object.entries(outputs)) {
    const paths = Object.fromEntries(Object.entries(output.artifacts).map(([name, ref]) => [name, ref.path]));
    try {
      refreshed[key] = { context: output.context, artifacts: await artifactRefs(dir, paths) };
    } catch (err) {
      throw failure('RefreshFailed', `cannot refresh phase ${key}'s files: ${(err as Error).message}`);
    }
  }
  return refreshed;
}
