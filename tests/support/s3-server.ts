/**
 * A real S3-compatible server for the tests: the Versity S3 gateway that `scripts/s3-dev.sh`
 * builds (from the Go module proxy, into .temporal/bin), started on a free loopback port over a
 * temporary directory of its own, with the script's fixed development credentials.
 *
 * A test file that needs one calls `useS3Server()` at its top: the server is built (the first time
 * on a machine) and started in that file's beforeAll and stopped in its afterAll, so only the files
 * that use it wait for a Go build, and running any other integration file alone never does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { freePort } from './ports.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The fixed development credentials scripts/s3-dev.sh gives its server (loopback only). */
export const S3_DEV_CREDENTIALS = { accessKeyId: 'baton-dev', secretAccessKey: 'baton-dev-secret' };
export const S3_DEV_REGION = 'us-east-1';

/**
 * How long scripts/s3-dev.sh may take to give the binary: its own bounds (BATON_S3_BUILD_TIMEOUT for
 * `go install`, 600 s by default, and as long again waiting for another checkout's build of the
 * same binary), and a minute more. A cold build took 98 s on two shared cores, 4.5 s in a fresh
 * clone once Go's caches hold it, none once .temporal/bin has it.
 */
export function s3BinaryBudgetMs(env: NodeJS.ProcessEnv = process.env): number {
  const build = Number(env.BATON_S3_BUILD_TIMEOUT);
  const seconds = Number.isFinite(build) && build > 0 ? build : 600;
  return (2 * seconds + 60) * 1000;
}

export interface S3Server {
  endpoint: string;
  /** A bucket made when it started. */
  bucket: string;
  /** The posix backend's root: `<dataDir>/<bucket>/<key>` is each object's file. */
  dataDir: string;
  /** The server's process id (for messages). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * `scripts/s3-dev.sh path`: the gateway's binary, built first if need be (minutes on a machine
 * that has never built it). The build's progress shows on the terminal; a failure resolves with
 * the script's own message (what to do), so that only the tests that need the server fail. The
 * script is given `timeoutMs` (then stopped, with its build).
 */
export function s3ServerBinary(timeoutMs = s3BinaryBudgetMs()): Promise<{ path: string; problem: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts/s3-dev.sh'), 'path'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // Its own process group: the script, and the go build under it.
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ path: '', problem: `could not run scripts/s3-dev.sh: ${err.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (timedOut) resolve({ path: '', problem: `scripts/s3-dev.sh path did not give the S3 dev server's binary within ${Math.round(timeoutMs / 1000)} s (stopped); run it by hand to see why (a slow Go module proxy?):\n${stderr.trim()}` });
      else if (code === 0 && stdout.trim()) resolve({ path: stdout.trim(), problem: '' });
      else resolve({ path: '', problem: stderr.trim() || `scripts/s3-dev.sh path exited with ${code}` });
    });
  });
}

/** Servers this process started and has not stopped: killed if the process exits first. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts the gateway on a free port of 127.0.0.1 over a new temporary directory, with `bucket`
 * made. A port another process takes between our choosing it and the server binding it is retried
 * with another (up to three times).
 */
export async function startS3Server(binary: string, bucket = 'baton-test'): Promise<S3Server> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binary, bucket);
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= 3) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(binary: string, bucket: string): Promise<S3Server> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baton-s3-'));
  const dataDir = path.join(dir, 'data');
  const metaDir = path.join(dir, 'meta');
  // A bucket of the posix backend is a directory under its root.
  await mkdir(path.join(dataDir, bucket), { recursive: true });
  await mkdir(metaDir, { recursive: true });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const logFile = path.join(dir, 'server.log');
  const log = createWriteStream(logFile);
  await new Promise((resolve) => log.once('open', resolve));
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('VGW_') || name.startsWith('ROOT_ACCESS') || name.startsWith('ROOT_SECRET')) delete env[name];
  const child: ChildProcess = spawn(
    binary,
    [
      '--port', `127.0.0.1:${port}`,
      '--access', S3_DEV_CREDENTIALS.accessKeyId,
      '--secret', S3_DEV_CREDENTIALS.secretAccessKey,
      '--region', S3_DEV_REGION,
      '--health', '/health',
      '--quiet',
      'posix', '--sidecar', metaDir, dataDir,
    ],
    { stdio: ['ignore', log, log], env },
  );
  running.add(child);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited (${signal ?? `code ${code}`})`;
    running.delete(child);
  });
  child.once('error', (err) => {
    exited = `could not start (${err.message})`;
    running.delete(child);
  });

  // Stops only this process (the one spawned here), never a server found on the port.
  const stop = async (): Promise<void> => {
    if (exited === undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    }
    log.end();
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== undefined) {
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).slice(-2000);
      await stop();
      if (/address already in use/i.test(tail)) throw new PortTaken(`port ${port} was taken before the S3 dev server could bind it`);
      throw new Error(`the S3 dev server (${binary}) ${exited} before it answered on ${endpoint}:\n${tail}`);
    }
    const ok = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    // Answered, and by this process: one that failed to bind (another server has the port) exits at once.
    if (ok) {
      await new Promise((r) => setTimeout(r, 100));
      if (exited === undefined) break;
      continue;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the S3 dev server (${binary}) did not answer on ${endpoint} within 30 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint, bucket, dataDir, pid: child.pid!, stop };
}

/** What a test file gets from useS3Server(): filled in by its beforeAll. */
export interface S3ForTests {
  /** `http://127.0.0.1:<port>`; empty when there is no server (see problem). */
  endpoint: string;
  /** A bucket that exists on it. */
  bucket: string;
  /** The directory the server keeps objects in: `<dataDir>/<bucket>/<key>`. */
  dataDir: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Why there is no server: what scripts/s3-dev.sh or the server said, with what to do. */
  problem: string;
}

/**
 * A server for this test file: built if need be and started before its first test, stopped after
 * its last. When it cannot be had (no Go to build it, say), each test of the file fails with the
 * reason and what to do, rather than being skipped.
 */
/**
 * The environment that points Baton at the test server, as a user's machine would have it:
 * BATON_STORE (`s3://<bucket>/<prefix>`) and the SDK's own variables for endpoint and credentials.
 */
export function s3StoreEnv(s3: S3ForTests, prefix: string): Record<string, string> {
  return {
    BATON_STORE: `s3://${s3.bucket}/${prefix}`,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
  };
}

/**
 * For a test file whose own process uses the store (an Orchestrator started in the test): a
 * temporary directory made before its tests and removed after them, with process.env put back as
 * it was (tests add the store's variables to it). Read `.path` inside tests.
 */
export function storeTestDir(prefix: string): { readonly path: string } {
  const dir = { path: '' };
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    dir.path = await mkdtemp(path.join(os.tmpdir(), prefix));
  });
  afterAll(async () => {
    process.env = savedEnv;
    if (dir.path) await rm(dir.path, { recursive: true, force: true });
  });
  return dir;
}

export function useS3Server(): S3ForTests {
  const s3: S3ForTests = {
    endpoint: '',
    bucket: '',
    dataDir: '',
    accessKeyId: S3_DEV_CREDENTIALS.accessKeyId,
    secretAccessKey: S3_DEV_CREDENTIALS.secretAccessKey,
    region: S3_DEV_REGION,
    problem: 'the S3 dev server was not started (useS3Server must be called at the top of the test file)',
  };
  let server: S3Server | undefined;
  const budget = s3BinaryBudgetMs();
  beforeAll(async () => {
    const binary = await s3ServerBinary(budget);
    s3.problem = binary.problem;
    if (!binary.path) return;
    try {
      server = await startS3Server(binary.path);
      Object.assign(s3, { endpoint: server.endpoint, bucket: server.bucket, dataDir: server.dataDir, problem: '' });
    } catch (err) {
      s3.problem = (err as Error).message;
    }
  }, budget + 60_000);
  beforeEach(() => {
    if (s3.problem) throw new Error(`no S3 server for these tests:\n${s3.problem}`);
  });
  afterAll(async () => {
    await server?.stop();
    server = undefined;
  });
  return s3;
}
