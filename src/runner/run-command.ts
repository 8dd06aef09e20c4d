/**
 * Runs a command phase: argv with no shell, output to capped log files, ended with everything it
 * started (children, background jobs, daemons in sessions of their own) when it exits, when the
 * activity is cancelled, and when this process dies, however it dies.
 *
 * The command is started by a guardian process (command-guardian.ts) rather than by this one: a
 * worker killed with SIGKILL cannot stop what it started, but its guardian notices the worker's
 * end (its IPC channel closes) and stops the command's process tree.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { logCapFromEnv, readTail } from './capped-log.js';
import type { FromGuardian, ToGuardian } from './guardian-protocol.js';
import { MARK_ENV, signalAll, treeMembers } from './process-tree.js';

export interface CommandRun {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdoutPath: string;
  stderrPath: string;
  signal: AbortSignal;
  /** Each log's cap; by default BATON_LOG_MAX_BYTES, else 64 MiB (capped-log.ts). */
  maxLogBytes?: number;
}

export interface CommandOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
  /** How many processes the command left running when it exited (they were ended). */
  leftovers?: number;
}

/** The command could not be started; `code` is spawn's (ENOENT for a program that is not there). */
export class CommandStartError extends Error {
  readonly code: string | undefined;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  readonly path: string | undefined;

  constructor(reported: Extract<FromGuardian, { type: 'error' }>) {
    super(reported.message);
    this.name = 'CommandStartError';
    this.code = reported.code;
    this.errno = reported.errno;
    this.syscall = reported.syscall;
    this.path = reported.path;
  }
}

/** The guardian ended before saying how the command did (killed from outside, or broken); the command was killed. */
export class GuardianLostError extends Error {
  constructor(exitCode: number | null, signal: NodeJS.Signals | null, said = '') {
    super(`the process guarding the command ended ${signal ? `by ${signal}` : `with code ${exitCode}`} before the command did${said ? ` (it said: ${said})` : ''}`);
    this.name = 'GuardianLostError';
  }
}

const STDERR_TAIL_BYTES = 2000;
const KILL_GRACE_MS = 5000;
const GUARDIAN = fileURLToPath(new URL('./command-guardian.js', import.meta.url));

export async function runCommand(run: CommandRun): Promise<CommandOutcome> {
  if (!run.argv[0]) throw new Error('empty command');
  const maxBytes = run.maxLogBytes ?? logCapFromEnv();
  // Made (empty) here, so that a log that cannot be written is this call's error; the guardian
  // writes them fresh: a log holds one command's output, so the stderr tail quoted in an error is
  // this command's and no earlier one's (callers give each attempt files of its own: attempt-files.ts).
  await Promise.all([run.stdoutPath, run.stderrPath].map(async (file) => (await open(file, 'w')).close()));
  const outcome = await guarded(run, maxBytes);
  // From the end of the log, never the whole of it: stderr may be gigabytes (the log keeps its cap).
  return { ...outcome, stderrTail: await readTail(run.stderrPath, STDERR_TAIL_BYTES) };
}

function guarded(run: CommandRun, maxBytes: number): Promise<Omit<CommandOutcome, 'stderrTail'>> {
  return new Promise((resolve, reject) => {
    // The guardian gets no execArgv (no --inspect port clash) and an empty environment: the
    // command's goes over the channel, so nothing in it (NODE_OPTIONS, say) changes how the
    // guardian itself runs. Its stderr comes here (only a guardian that breaks writes to it).
    // detached: a SIGKILL to this process's whole group (`kill -9 -<pgid>`) must not take the
    // guardian with it, or the command, in a group of its own, would be orphaned after all.
    const guardian = fork(GUARDIAN, [], { execArgv: [], env: {}, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], detached: true });
    let said = '';
    guardian.stderr?.on('data', (d: Buffer) => (said = (said + d.toString()).slice(-STDERR_TAIL_BYTES)));
    const mark = randomUUID();
    let commandPid: number | undefined;
    let settled = false;
    const send = (msg: ToGuardian): void => {
      // A failed send means the guardian is gone; 'close' below reports that.
      if (guardian.connected) guardian.send(msg, () => undefined);
    };
    const terminate = (): void => send({ type: 'terminate' });
    const settle = (then: () => void): void => {
      if (settled) return;
      settled = true;
      run.signal.removeEventListener('abort', terminate);
      then();
    };
    guardian.on('message', (msg: FromGuardian) => {
      if (msg.type === 'started') commandPid = msg.pid;
      else if (msg.type === 'exit') settle(() => resolve({ exitCode: msg.exitCode, signal: msg.signal, ...(msg.leftovers ? { leftovers: msg.leftovers } : {}) }));
      else settle(() => reject(new CommandStartError(msg)));
    });
    guardian.once('error', (err) => settle(() => reject(err)));
    guardian.once('close', (exitCode, signal) => {
      if (settled) return;
      // Nobody guards the command any more and nobody will read its output: stop it here, and
      // whatever carries its mark.
      if (commandPid !== undefined) signalAll([-commandPid, ...treeMembers(commandPid, mark)], 'SIGKILL');
      settle(() => reject(new GuardianLostError(exitCode, signal, said.trim())));
    });
    send({
      type: 'run',
      argv: run.argv,
      cwd: run.cwd,
      env: { ...run.env, [MARK_ENV]: mark },
      graceMs: KILL_GRACE_MS,
      mark,
      logs: { stdout: run.stdoutPath, stderr: run.stderrPath, maxBytes },
    });
    if (run.signal.aborted) terminate();
    else run.signal.addEventListener('abort', terminate, { once: true });
  });
}
