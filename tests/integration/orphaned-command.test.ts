/**
 * A command outlives nothing: when the process that ran it through runCommand (a phase worker,
 * or `baton execute-phase`) is killed with SIGKILL, the command and its own children are stopped
 * within a couple of seconds. Real processes throughout; the parent is a stand-in for a worker
 * that runs the built runCommand. Also checks that runCommand still reports what callers rely on.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, tempDir } from '../support/baton.js';
import { isAlive, waitForDeath } from '../support/processes.js';

const PARENT = path.join(FIXTURES, 'run-command-parent.mjs');
const TREE = path.join(FIXTURES, 'process-tree.mjs');
/** The guardian's grace for an orphaned command is 1 s, then SIGKILL; this leaves room for a busy machine. */
const BOUND_MS = 2500;

const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});

/** The parent leads a process group of its own, so that the test can kill that whole group. */
function startParent(workdir: string, argv: string[], abortAfterMs?: number) {
  const proc = spawn(process.execPath, [PARENT, workdir, JSON.stringify(argv), ...(abortAfterMs ? [String(abortAfterMs)] : [])], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  let stdout = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return { proc, exited, result: async () => (await exited, JSON.parse(stdout)) };
}

async function treePids(pidFile: string): Promise<{ command: number; grandchild: number }> {
  const deadline = Date.now() + 10_000;
  while (!existsSync(pidFile)) {
    if (Date.now() > deadline) throw new Error('the command did not record its pids in 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  const pids = JSON.parse(await readFile(pidFile, 'utf8')) as { command: number; grandchild: number };
  leftovers.push(pids.command, pids.grandchild);
  return pids;
}

describe('a command whose worker is killed', () => {
  const cases = [
    { mode: 'honours-term', target: 'the worker', what: 'grandchild honours SIGTERM' },
    { mode: 'ignore-term', target: 'the worker', what: 'grandchild ignores SIGTERM' },
    // A supervisor's `kill -9 -<pgid>`: the guardian is in a session of its own, so it survives to act.
    { mode: 'honours-term', target: "the worker's process group", what: 'whole group killed' },
  ];
  for (const { mode, target, what } of cases) {
    it(`is stopped with its grandchild soon after SIGKILL to ${target} (${what})`, async () => {
      const workdir = await tempDir('baton-orphan-');
      const pidFile = path.join(workdir, 'pids.json');
      const parent = startParent(workdir, [process.execPath, TREE, pidFile, mode]);
      const pids = await treePids(pidFile);
      expect(isAlive(pids.command) && isAlive(pids.grandchild)).toBe(true);

      const killedAt = Date.now();
      process.kill(target === 'the worker' ? parent.proc.pid! : -parent.proc.pid!, 'SIGKILL');
      await parent.exited;
      const alive = await waitForDeath([pids.command, pids.grandchild], BOUND_MS + 2000);
      const tookMs = Date.now() - killedAt;
      console.log(`orphaned command (${what}): dead ${tookMs} ms after SIGKILL to ${target}`);
      expect(alive).toEqual([]);
      expect(tookMs).toBeLessThan(BOUND_MS);
    });
  }
});

describe('runCommand through its guardian', () => {
  it('reports the exit code and the stderr tail', async () => {
    const workdir = await tempDir('baton-orphan-');
    const { outcome } = await startParent(workdir, [process.execPath, '-e', 'console.log("out"); console.error("the disk is full"); process.exit(3)']).result();
    expect(outcome).toEqual({ exitCode: 3, signal: null, stderrTail: 'the disk is full\n' });
    expect(await readFile(path.join(workdir, 'stdout.log'), 'utf8')).toBe('out\n');
  });

  it('reports a command killed by a signal', async () => {
    const workdir = await tempDir('baton-orphan-');
    const { outcome } = await startParent(workdir, [process.execPath, '-e', 'process.kill(process.pid, "SIGUSR2")']).result();
    expect(outcome).toMatchObject({ exitCode: null, signal: 'SIGUSR2' });
  });

  it('reports a program that is not there as ENOENT, as spawn does', async () => {
    const workdir = await tempDir('baton-orphan-');
    const { error } = await startParent(workdir, ['baton-no-such-program', '--flag']).result();
    expect(error).toEqual({ name: 'CommandStartError', code: 'ENOENT', message: 'spawn baton-no-such-program ENOENT' });
  });

  it('when the guardian itself is killed, stops the command and says so', async () => {
    const workdir = await tempDir('baton-orphan-');
    const pidFile = path.join(workdir, 'pids.json');
    const parent = startParent(workdir, [process.execPath, TREE, pidFile]);
    const pids = await treePids(pidFile);
    const stat = await readFile(`/proc/${pids.command}/stat`, 'utf8');
    const guardian = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]); // "state ppid …"
    process.kill(guardian, 'SIGKILL');
    const { error } = await parent.result();
    expect(error).toMatchObject({ name: 'GuardianLostError', message: 'the process guarding the command ended by SIGKILL before the command did' });
    // The parent stops the command's group itself, with SIGKILL.
    expect(await waitForDeath([pids.command, pids.grandchild], BOUND_MS)).toEqual([]);
  });

  it('on cancellation reports the command ended only once its whole group is gone (a child that ignores SIGTERM included)', async () => {
    const workdir = await tempDir('baton-orphan-');
    const pidFile = path.join(workdir, 'pids.json');
    const parent = startParent(workdir, [process.execPath, TREE, pidFile, 'ignore-term'], 1500);
    const pids = await treePids(pidFile);
    const { outcome } = await parent.result();
    // The grandchild outlives SIGTERM; only SIGKILL after the 5 s grace stops it, and only then is the end reported.
    expect(outcome).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
    expect([pids.command, pids.grandchild].filter(isAlive)).toEqual([]);
  });

  it('on cancellation stops the command with SIGTERM, and its group with it', async () => {
    const workdir = await tempDir('baton-orphan-');
    const pidFile = path.join(workdir, 'pids.json');
    const parent = startParent(workdir, [process.execPath, TREE, pidFile], 1500);
    const pids = await treePids(pidFile);
    const { outcome } = await parent.result();
    expect(outcome).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
    expect(await waitForDeath([pids.command, pids.grandchild], BOUND_MS)).toEqual([]);
  });
});
