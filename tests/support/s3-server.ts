/**
 * A real S3-compatible server for the tests: the Versity S3 gateway that `scripts/s3-dev.sh`
 * builds (from the Go module proxy, into .temporal/bin), started on a free loopback port over a
 * temporary directory of its own, with the script's fixed development credentials.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The fixed development credentials scripts/s3-dev.sh gives its server (loopback only). */
export const S3_DEV_CREDENTIALS = { accessKeyId: 'baton-dev', secretAccessKey: 'baton-dev-secret' };
export const S3_DEV_REGION = 'us-east-1';

export interface S3Server {
  endpoint: string;
  /** A bucket made when it started. */
  bucket: string;
  /** The posix backend's root: `<dataDir>/<bucket>/<key>` is each object's file. */
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * `scripts/s3-dev.sh path`: the gateway's binary, built first if need be (minutes on a machine
 * that has never built it). The build's progress shows on the terminal; a failure resolves with
 * the script's own message (what to do), so that only the tests that need the server fail.
 */
export function s3ServerBinary(): Promise<{ path: string; problem: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts/s3-dev.sh'), 'path'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.once('error', (err) => resolve({ path: '', problem: `could not run scripts/s3-dev.sh: ${err.message}` }));
    child.once('close', (code) => {
      if (code === 0 && stdout.trim()) resolve({ path: stdout.trim(), problem: '' });
      else resolve({ path: '', problem: stderr.trim() || `scripts/s3-dev.sh path exited with ${code}` });
    });
  });
}

/** Starts the gateway on a free port over a new temporary directory, with `bucket` made. */
export async function startS3Server(binary: string, bucket = 'baton-test'): Promise<S3Server> {
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
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited (${signal ?? `code ${code}`})`));
  child.once('error', (err) => (exited = `could not start (${err.message})`));

  const stop = async (): Promise<void> => {
    if (exited === undefined && child.exitCode === null) {
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
      throw new Error(`the S3 dev server (${binary}) ${exited} before it answered on ${endpoint}:\n${tail}`);
    }
    const ok = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the S3 dev server (${binary}) did not answer on ${endpoint} within 30 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint, bucket, dataDir, stop };
}
