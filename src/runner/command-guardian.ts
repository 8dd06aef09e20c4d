/**
 * The guardian of one phase (or rollback) command: a tiny Node process that runCommand forks
 * with an IPC channel, and that starts the command in its own process group and relays how it
 * ended.
 *
 * It exists because a worker killed with SIGKILL runs no handler: the command it started would be
 * orphaned and run to its end. The guardian's channel closes when the worker dies by any means,
 * and on that 'disconnect' the guardian stops the command's whole process group. It loads nothing
 * but node:child_process and node:fs, so it starts in about the time of a bare `node`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { FromGuardian, ToGuardian } from './guardian-protocol.js';

/** The worker is gone and nobody will read the output: a short grace to clean up, then SIGKILL. */
const ORPHAN_GRACE_MS = 1000;
/** How often to look whether anything in the group is still alive while it is being stopped. */
const POLL_MS = 100;
/** How long after SIGKILL a process that has not gone is taken for one that never will. */
const UNKILLABLE_MS = 5000;

// Runs in a session of its own (runCommand forks it detached), so signals to the worker's process
// group do not reach it; any that are sent here directly are still for the worker to act on: it
// cancels the phase over the channel, or dies and the channel closes. Dying on them here instead
// would orphan the command, the very thing this process prevents.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);

let command: ChildProcess | undefined;
let graceMs = ORPHAN_GRACE_MS;
let ended = false;
/** When what is left of the group gets SIGKILL; set once the group is being stopped. */
let killAt: number | undefined;

process.on('message', (msg: ToGuardian) => {
  if (msg.type === 'run') start(msg);
  else if (msg.type === 'terminate') stopGroup(graceMs);
});

process.on('disconnect', () => {
  // Also fires when this process disconnects after reporting; then the command has ended already.
  if (!ended) stopGroup(ORPHAN_GRACE_MS);
});

function start(run: Extract<ToGuardian, { type: 'run' }>): void {
  if (command) return;
  graceMs = run.graceMs;
  const [program, ...args] = run.argv;
  try {
    // argv, never a shell: package data reaches the program as arguments and runs nothing.
    // detached: the command leads its own process group, so stopping it stops its children too.
    command = spawn(program ?? '', args, { cwd: run.cwd, env: run.env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  } catch (err) {
    // Arguments spawn refuses outright (a NUL byte in argv, say): the command never started.
    ended = true;
    const { message, code } = err as NodeJS.ErrnoException;
    report({ type: 'error', message, code }, true);
    return;
  }
  if (command.pid !== undefined) report({ type: 'started', pid: command.pid });
  command.once('error', (err: NodeJS.ErrnoException) => {
    if (ended) return;
    ended = true;
    report({ type: 'error', message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path }, true);
  });
  command.once('exit', (exitCode, signal) => {
    if (ended) return;
    ended = true;
    const exited = (): void => report({ type: 'exit', exitCode, signal }, true);
    // Being stopped (the phase was cancelled): report once the whole group is gone, not when its
    // leader is. What comes after a cancelled phase (its rollback, the run's end) must not run
    // beside a child of it that is still finishing, or ignoring SIGTERM until the grace is up.
    if (killAt !== undefined && command?.pid !== undefined) whenGroupGone(command.pid, exited);
    else exited();
  });
}

/**
 * Calls `then` once no process is left in the group, SIGKILLing what is left when the grace runs
 * out; past that by UNKILLABLE_MS (a process stuck in the kernel), it stops waiting.
 */
function whenGroupGone(pgid: number, then: () => void): void {
  const poll = setInterval(() => {
    const now = Date.now();
    if (!groupRuns(pgid) || now >= (killAt ?? 0) + UNKILLABLE_MS) {
      clearInterval(poll);
      then();
    } else if (now >= (killAt ?? 0)) {
      signalGroup(pgid, 'SIGKILL');
    }
  }, POLL_MS / 2);
}

/**
 * SIGTERM the group now; SIGKILL whatever of it is left after the grace (children that ignore
 * SIGTERM included). Asked again while stopping (the worker died during a cancellation), the
 * shorter of the two graces wins.
 */
function stopGroup(grace: number): void {
  const pgid = command?.pid;
  if (pgid === undefined) return;
  const at = Date.now() + grace;
  if (killAt !== undefined) {
    killAt = Math.min(killAt, at);
    return;
  }
  killAt = at;
  signalGroup(pgid, 'SIGTERM');
  const poll = setInterval(() => {
    if (!signalGroup(pgid, 0)) clearInterval(poll);
    else if (Date.now() >= (killAt ?? 0)) {
      signalGroup(pgid, 'SIGKILL');
      clearInterval(poll);
    }
  }, POLL_MS);
}

/**
 * Whether a process of the group still runs. A zombie runs nothing, but answers signals: where
 * nothing reaps orphans (PID 1 in some containers) a child's zombie stays, so where /proc can say,
 * zombies do not count.
 */
function groupRuns(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return true; // no /proc here: the signal has answered
  }
  return pids.some((pid) => {
    try {
      // "pid (comm) state ppid pgrp …": comm may hold spaces or parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(pgrp) === pgid && state !== 'Z';
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** Whether the group still had a member to signal. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The last report disconnects, so that this process ends once a stop in progress is done. */
function report(msg: FromGuardian, last = false): void {
  if (!process.connected) return;
  process.send?.(msg, undefined, {}, () => {
    if (last && process.connected) process.disconnect();
  });
}
