/**
 * Runs a command phase: argv with no shell, output to log files, killed with its children when
 * the activity is cancelled, and also when this process dies, however it dies.
 *
 * The command is started by a guardian process (command-guardian.ts) rather than by this one: a
 * worker killed with SIGKILL cannot stop what it started, but its guardian notices the worker's
 * end (its IPC channel closes) and stops the command's process group.
 */
import { fork } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FromGuardian, ToGuardian } from './guardian-protocol.js';

export interface CommandRun {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdoutPath: string;
  stderrPath: string;
  signal: AbortSignal;
}

export interface CommandOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
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
  constructor(exitCode: number | null, signal: NodeJS.Signals | null) {
    super(`the process guarding the command ended ${signal ? `by ${signal}` : `with code ${exitCode}`} before the command did`);
    this.name = 'GuardianLostError';
  }
}

const STDERR_TAIL_BYTES = 2000;
const KILL_GRACE_MS = 5000;
const GUARDIAN = fileURLToPath(new URL('./command-guardian.js', import.meta.url));

export async function runCommand(run: CommandRun): Promise<CommandOutcome> {
  if (!run.argv[0]) throw new Error('empty command');
  // Written fresh: a log holds one command's output, so the stderr tail quoted in an error is this
  // command's and no earlier one's (callers give each attempt files of its own: attempt-files.ts).
  const stdout = await open(run.stdoutPath, 'w');
  const stderr = await open(run.stderrPath, 'w');
  try {
    const outcome = await guarded(run, stdout.fd, stderr.fd);
    return { ...outcome, stderrTail: await tail(run.stderrPath, STDERR_TAIL_BYTES) };
  } finally {
    await Promise.all([stdout.close(), stderr.close()]);
  }
}

function guarded(run: CommandRun, stdoutFd: number, stderrFd: number): Promise<Omit<CommandOutcome, 'stderrTail'>> {
  return new Promise((resolve, reject) => {
    // The guardian writes to the command's log files (its own errors included, which belong there),
    // gets no execArgv (no --inspect port clash) and an empty environment: the command's goes over
    // the channel, so nothing in it (NODE_OPTIONS, say) changes how the guardian itself runs.
    // detached: a SIGKILL to this process's whole group (`kill -9 -<pgid>`) must not take the
    // guardian with it, or the command, in a group of its own, would be orphaned after all.
    const guardian = fork(GUARDIAN, [], { execArgv: [], env: {}, stdio: ['ignore', stdoutFd, stderrFd, 'ipc'], detached: true });
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
      else if (msg.type === 'exit') settle(() => resolve({ exitCode: msg.exitCode, signal: msg.signal }));
      else settle(() => reject(new CommandStartError(msg)));
    });
    guardian.once('error', (err) => settle(() => reject(err)));
    guardian.once('close', (exitCode, signal) => {
      if (settled) return;
      // Nobody guards the command any more and nobody will read its output: stop it here.
      if (commandPid !== undefined) {
        try {
          process.kill(-commandPid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      settle(() => reject(new GuardianLostError(exitCode, signal)));
    });
    send({ type: 'run', argv: run.argv, cwd: run.cwd, env: run.env, graceMs: KILL_GRACE_MS });
    if (run.signal.aborted) terminate();
    else run.signal.addEventListener('abort', terminate, { once: true });
  });
}

async function tail(file: string, bytes: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.length > bytes ? `…${text.slice(-bytes)}` : text;
}
