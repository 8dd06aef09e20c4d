/**
 * The guardian of one phase (or rollback) command: a tiny Node process that runCommand forks
 * with an IPC channel, and that starts the command in its own process group, writes its output
 * to capped logs, ends whatever the command leaves running, and relays how it ended.
 *
 * It exists because a worker killed with SIGKILL runs no handler: the command it started would be
 * orphaned and run to its end. The guardian's channel closes when the worker dies by any means,
 * and on that 'disconnect' the guardian stops the command's whole process tree. It loads nothing
 * but node builtins and two small modules of its own, so it starts in about the time of a bare `node`.
 *
 * A command's process tree is its process group and every process carrying its mark in its
 * environment (process-tree.ts): background jobs that outlive the command, and daemons that left
 * for a session of their own, end with it, when it exits as when it is stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { CappedLog } from './capped-log.js';
import type { FromGuardian, ToGuardian } from './guardian-protocol.js';
import { describePids, ProcessTree, signalAll, startTime } from './process-tree.js';

/** The worker is gone and nobody will read the output: a short grace to clean up, then SIGKILL. */
const ORPHAN_GRACE_MS = 1000;
/** What a command leaves running when it exits: SIGTERM, then SIGKILL after this. */
const LEFTOVER_GRACE_MS = 1000;
/** How often to look whether anything of the tree is still alive while it is being stopped. */
const POLL_MS = 50;
/** How long after SIGKILL a process that has not gone is taken for one that never will. */
const UNKILLABLE_MS = 5000;
/**
 * Once the tree is gone, how long to wait for the last of its output: the pipes end when the last
 * process holding them does, and one that escaped (no mark, another group) may hold them for good.
 */
const DRAIN_MS = 1000;

// Runs in a session of its own (runCommand forks it detached), so signals to the worker's process
// group do not reach it; any that are sent here directly are still for the worker to act on: it
// cancels the phase over the channel, or dies and the channel closes. Dying on them here instead
// would orphan the command, the very thing this process prevents.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
// Its stderr is a pipe to the worker, which may be gone: writing there must never end this process.
process.stderr.on('error', () => undefined);

let command: ChildProcess | undefined;
/** The command's process group and whatever carries its mark. */
let tree: ProcessTree | undefined;
/** Every descendant of the command starts after this process did. */
const STARTED = startTime();
let logs: { stdout: CappedLog; stderr: CappedLog } | undefined;
let graceMs = ORPHAN_GRACE_MS;
/** The command's leader has ended (or never started). */
let ended = false;
/** How it ended has been reported (or the channel is gone). */
let reported = false;
/** When what is left of the tree gets SIGKILL; set once the tree is being stopped. */
let killAt: number | undefined;
/** Resolves once nothing of the tree runs (or what is left cannot be killed). */
let stopped: Promise<void> = Promise.resolve();

process.on('message', (msg: ToGuardian) => {
  if (msg.type === 'run') start(msg);
  else if (msg.type === 'terminate') stopTree(graceMs);
});

process.on('disconnect', () => {
  // Also fires when this process disconnects after reporting; then everything has ended already.
  if (!reported) stopTree(ORPHAN_GRACE_MS);
});

function start(run: Extract<ToGuardian, { type: 'run' }>): void {
  if (command || ended) return;
  graceMs = run.graceMs;
  logs = { stdout: new CappedLog(run.logs.stdout, run.logs.maxBytes), stderr: new CappedLog(run.logs.stderr, run.logs.maxBytes) };
  const [program, ...args] = run.argv;
  try {
    // argv, never a shell: package data reaches the program as arguments and runs nothing.
    // detached: the command leads its own process group, so stopping it stops its children too.
    command = spawn(program ?? '', args, { cwd: run.cwd, env: run.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } catch (err) {
    // Arguments spawn refuses outright (a NUL byte in argv, say): the command never started.
    ended = true;
    const { message, code } = err as NodeJS.ErrnoException;
    void closeLogs('').then(() => report({ type: 'error', message, code }, true));
    return;
  }
  const running = command;
  if (running.pid !== undefined) tree = new ProcessTree(running.pid, run.mark, STARTED);
  capture(running.stdout!, logs.stdout);
  capture(running.stderr!, logs.stderr);
  if (running.pid !== undefined) report({ type: 'started', pid: running.pid });
  running.once('error', (err: NodeJS.ErrnoException) => {
    if (ended) return;
    ended = true;
    const failed: FromGuardian = { type: 'error', message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path };
    void closeLogs('').then(() => report(failed, true));
  });
  running.once('exit', (exitCode, signal) => {
    if (ended) return;
    ended = true;
    // What it leaves running when it exits by itself ends now: background jobs, daemons in a
    // session of their own. Being stopped (cancelled, or its worker gone), the stop goes on. Either
    // way the end is reported once the whole tree is gone, not when its leader is: what comes after
    // a phase (its rollback, its dependants, the run's end) must not run beside a piece of it.
    const left = killAt === undefined && tree ? tree.members() : [];
    const note = left.length > 0 ? `[baton: the command exited and left ${left.length === 1 ? '1 process' : `${left.length} processes`} running, ended with it: ${describePids(left)}]\n` : '';
    if (left.length > 0) stopTree(LEFTOVER_GRACE_MS);
    void stopped
      .then(() => closeLogs(note))
      .then(() => report({ type: 'exit', exitCode, signal, ...(left.length > 0 ? { leftovers: left.length } : {}) }, true));
  });
}

/** A stream of the command into its log; should the log fail (a full disk), the output is read and dropped, never left to block the command. */
function capture(source: Readable, log: CappedLog): void {
  source.pipe(log, { end: false });
  log.once('error', () => {
    source.unpipe(log);
    source.resume();
  });
}

/** Ends both logs, once the command's output has been read to its end (or DRAIN_MS after the tree is gone). */
async function closeLogs(note: string): Promise<void> {
  if (!logs) return;
  const pairs: Array<[Readable | null | undefined, CappedLog]> = [
    [command?.stdout, logs.stdout],
    [command?.stderr, logs.stderr],
  ];
  const drained = Promise.all(pairs.map(([source]) => (source ? finished(source).catch(() => undefined) : undefined)));
  const timer = new AbortController();
  await Promise.race([drained, delay(DRAIN_MS, undefined, { signal: timer.signal }).catch(() => undefined)]);
  timer.abort();
  for (const [source, log] of pairs) {
    source?.unpipe(log);
    source?.destroy();
    if (log.destroyed) continue;
    if (log === logs.stderr && note) log.write(note);
    log.end();
  }
  await Promise.all(pairs.map(([, log]) => finished(log).catch(() => undefined)));
}

/**
 * SIGTERM the tree now; SIGKILL whatever of it is left after the grace (children that ignore
 * SIGTERM included, and any it starts meanwhile). Asked again while stopping (the worker died
 * during a cancellation), the shorter of the two graces wins.
 */
function stopTree(grace: number): void {
  const pgid = command?.pid;
  if (pgid === undefined || !tree) return;
  const stopping = tree;
  const at = Date.now() + grace;
  if (killAt !== undefined) {
    killAt = Math.min(killAt, at);
    return;
  }
  killAt = at;
  signalAll([-pgid, ...stopping.members()], 'SIGTERM');
  stopped = new Promise((resolve) => {
    const poll = setInterval(() => {
      const left = stopping.members();
      const now = Date.now();
      if (left.length === 0 || now >= (killAt ?? 0) + UNKILLABLE_MS) {
        clearInterval(poll);
        resolve();
      } else if (now >= (killAt ?? 0)) {
        signalAll([-pgid, ...left], 'SIGKILL');
      }
    }, POLL_MS);
  });
}

/** The last report disconnects, so that this process ends once a stop in progress is done. */
function report(msg: FromGuardian, last = false): void {
  if (last) reported = true;
  if (!process.connected) return;
  process.send?.(msg, undefined, {}, () => {
    if (last && process.connected) process.disconnect();
  });
}
