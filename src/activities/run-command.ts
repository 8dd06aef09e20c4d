/**
 * Runs a command phase: argv with no shell, output to log files, killed with its
 * children when the activity is cancelled.
 */
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';

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

const STDERR_TAIL_BYTES = 2000;
const KILL_GRACE_MS = 5000;

export async function runCommand(run: CommandRun): Promise<CommandOutcome> {
  const [program, ...args] = run.argv;
  if (!program) throw new Error('empty command');
  const stdout = await open(run.stdoutPath, 'a');
  const stderr = await open(run.stderrPath, 'a');
  try {
    const outcome = await new Promise<Omit<CommandOutcome, 'stderrTail'>>((resolve, reject) => {
      // detached: the phase gets its own process group, so cancelling kills its children too.
      const child = spawn(program, args, {
        cwd: run.cwd,
        env: run.env,
        stdio: ['ignore', stdout.fd, stderr.fd],
        detached: true,
      });
      let killTimer: NodeJS.Timeout | undefined;
      const kill = (): void => {
        signalGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
      };
      run.signal.addEventListener('abort', kill, { once: true });
      const done = (): void => {
        if (killTimer) clearTimeout(killTimer);
        run.signal.removeEventListener('abort', kill);
      };
      child.once('error', (err) => {
        done();
        reject(err);
      });
      child.once('exit', (exitCode, signal) => {
        done();
        resolve({ exitCode, signal });
      });
    });
    return { ...outcome, stderrTail: await tail(run.stderrPath, STDERR_TAIL_BYTES) };
  } finally {
    await Promise.all([stdout.close(), stderr.close()]);
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function tail(file: string, bytes: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.length > bytes ? `…${text.slice(-bytes)}` : text;
}
