/**
 * Doing idempotent file work (making a run's directories, writing a phase's execute script) at
 * most every few seconds rather than once per phase: at hundreds of phases a second, the repeated
 * calls were a measurable share of a phase's cost. The memory is short so that a workdir
 * removed between runs (`rm -rf .baton`) is made again; `writeFileAtomic` also retries once on
 * ENOENT.
 */
import { mkdir } from 'node:fs/promises';

const REMEMBER_MS = 2_000;
const done = new Map<string, number>();

/** Runs `work` unless it ran for `key` within the last few seconds. */
export async function unlessDoneRecently(key: string, work: () => Promise<void>): Promise<void> {
  const at = done.get(key);
  if (at !== undefined && Date.now() - at < REMEMBER_MS) return;
  await work();
  done.set(key, Date.now());
}

export function ensureDir(dir: string): Promise<void> {
  return unlessDoneRecently(`mkdir:${dir}`, async () => {
    await mkdir(dir, { recursive: true });
  });
}

/** Forgets a directory (after ENOENT inside it), so the next ensureDir makes it again. */
export function forgetDir(dir: string): void {
  done.delete(`mkdir:${dir}`);
}
