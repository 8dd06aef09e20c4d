/**
 * Whether processes are still running, for the tests that check nothing outlives its worker.
 */
import { existsSync, readFileSync } from 'node:fs';

/**
 * A zombie counts as dead: it runs nothing, and where PID 1 does not reap orphans (some
 * containers) an orphan's zombie stays until the container ends.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces or parentheses, state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    // Gone between the two looks; or no /proc on this system, and then kill(0) has answered.
    return !existsSync('/proc/self/stat');
  }
}

/** Polls until none of the pids is alive; resolves with the ones still alive at the deadline (none is success). */
export async function waitForDeath(pids: number[], timeoutMs: number, pollMs = 20): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
