/**
 * Finding what a command left running. A command runs as the leader of its own process group,
 * which catches its children, background jobs (`sleep 600 &`) included; a daemon that starts a
 * session of its own (`setsid`, a double fork) leaves the group, but not its environment: every
 * command gets a unique BATON_COMMAND_MARK, which its descendants inherit, and /proc/<pid>/environ
 * (the environment a process was started with) finds them wherever they went.
 *
 * What cannot be found this way: a process that was started with an environment without the mark
 * (`env -i`, `env -u BATON_COMMAND_MARK`) and left the group, one that runs as another user (its
 * environ cannot be read), and anything at all where there is no /proc (there, the group only).
 *
 * Loaded by the command guardian: node builtins only.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The variable that marks a command and everything it starts. */
export const MARK_ENV = 'BATON_COMMAND_MARK';

/**
 * The processes of one command that still run: its group's members and those that carry its mark.
 * Zombies run nothing and do not count: where nothing reaps orphans (PID 1 in some containers) a
 * child's zombie stays. Without /proc, only whether the group answers a signal.
 *
 * Looked at repeatedly while a tree is being stopped, so each look reads only what it must: a
 * process once found not to be the command's is not read again (it cannot join: its environment
 * is fixed when it starts), one older than `since` is never read for the mark (the command's
 * descendants all started after it), and one found to be the command's stays so until it is gone
 * (even should it start another program with a clean environment).
 */
export class ProcessTree {
  private readonly others = new Set<number>();
  private readonly known = new Set<number>();
  private readonly needle: Buffer | undefined;

  constructor(
    readonly pgid: number,
    readonly mark: string | undefined,
    /** The start time (clock ticks since boot, /proc/<pid>/stat) before which nothing can be the command's. */
    readonly since = 0,
  ) {
    this.needle = mark === undefined ? undefined : Buffer.from(`${MARK_ENV}=${mark}\0`);
  }

  members(): number[] {
    let names: string[];
    try {
      names = readdirSync('/proc');
    } catch {
      return signalGroup(this.pgid, 0) ? [-this.pgid] : []; // no /proc here: the group's answer is all there is
    }
    const found: number[] = [];
    for (const name of names) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid === process.pid || this.others.has(pid)) continue;
      const stat = readStat(pid);
      if (!stat || stat.state === 'Z' || stat.state === 'X') {
        this.known.delete(pid);
        continue; // gone, or a zombie: runs nothing
      }
      if (this.known.has(pid) || stat.pgrp === this.pgid || (this.needle !== undefined && stat.start >= this.since && carries(pid, this.needle))) {
        this.known.add(pid);
        found.push(pid);
      } else {
        this.others.add(pid);
      }
    }
    return found;
  }
}

/** The processes still running of the command whose group is `pgid` or that carry its mark: one look. */
export function treeMembers(pgid: number, mark: string | undefined): number[] {
  return new ProcessTree(pgid, mark).members();
}

/** This process's start time, in clock ticks since boot (0 where there is no /proc). */
export function startTime(pid: number | 'self' = 'self'): number {
  return readStat(pid)?.start ?? 0;
}

function readStat(pid: number | 'self'): { state: string; pgrp: number; start: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp … starttime (field 22) …": comm may hold spaces or parentheses,
  // so read after the last ')'; the fields there begin with state, field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]), start: Number(fields[19]) };
}

/** Whether the process's starting environment holds the mark (another user's cannot be read). */
function carries(pid: number, needle: Buffer): boolean {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  // The whole variable: at the start or after a NUL (the needle ends with the NUL after it).
  for (let at = environ.indexOf(needle); at >= 0; at = environ.indexOf(needle, at + 1)) {
    if (at === 0 || environ[at - 1] === 0) return true;
  }
  return false;
}

/** Signals every one of `pids` (a negative one is a group); says whether any was there to signal. */
export function signalAll(pids: number[], signal: NodeJS.Signals | 0): boolean {
  let any = false;
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      any = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPERM') any = true;
    }
  }
  return any;
}

/** Whether the group still had a member to signal. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  return signalAll([-pgid], signal);
}

/** `123 (sleep), 456 (node)`: which processes, for a log line. */
export function describePids(pids: number[]): string {
  return pids
    .map((pid) => {
      try {
        return `${pid} (${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()})`;
      } catch {
        return String(pid);
      }
    })
    .join(', ');
}
