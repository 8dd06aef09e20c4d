/**
 * `baton doctor --store`: checks the store BATON_STORE names, step by step, with one finding per
 * step: the store can be reached with these credentials and its bucket (or directory) is there;
 * an object can be written, read back and removed; content stored by its sha256 comes back
 * checked. Each failure says what went wrong where (the StoreError's words) and what to do.
 * `baton doctor <run>` checks a run's files in it (store-run-doctor.ts).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { isStoreError, openStore, type Store } from '../runner/store/index.js';
import type { Finding } from './diagnose.js';

export interface StoreCheckOptions {
  /** The environment to read BATON_STORE and the AWS_* variables from (default process.env). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** The findings for the store BATON_STORE names; one ok finding saying so when it is unset. */
export async function checkStoreFromEnvironment(options: StoreCheckOptions = {}): Promise<Finding[]> {
  const env = options.env ?? process.env;
  const location = env.BATON_STORE?.trim();
  if (!location) {
    return [{ ok: true, message: 'BATON_STORE is not set: there is no object store to check (runs keep their files in their workdir)' }];
  }
  let store: Store;
  try {
    // Fewer attempts and a shorter connection timeout than a worker's: a doctor answers in seconds.
    store = openStore(location, { env, ...(options.cwd ? { cwd: options.cwd } : {}), maxAttempts: 2, connectionTimeoutMs: 5_000 });
  } catch (err) {
    return [failedStep(`BATON_STORE (${location}) cannot be used`, err)];
  }
  try {
    return await checkStore(store);
  } finally {
    (store as Partial<{ destroy(): void }>).destroy?.();
  }
}

/** Checks `store` step by step; stops at the first step that fails (the later ones would fail too). */
export async function checkStore(store: Store): Promise<Finding[]> {
  const findings: Finding[] = [];
  const s3 = store.location.startsWith('s3://');
  const where = store.description;

  // 1. Reachable, credentials accepted, bucket there: asking for an object that is not there (on
  // S3, a HEAD whose 404 the store follows with a one-key listing of the bucket, which says why).
  const probe = `.baton-probe/doctor-${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await store.head(probe);
    findings.push({ ok: true, message: s3 ? `store ${where}: reachable, the credentials accepted, the bucket there` : `store ${where}: readable` });
  } catch (err) {
    findings.push(failedStep(s3 ? `store ${where}: the check of the endpoint, the credentials and the bucket failed` : `store ${where}: cannot be read`, err));
    return findings;
  }

  // 2. A round trip: write, read back, compare, remove.
  const bytes = randomBytes(64);
  const started = performance.now();
  let written = false;
  try {
    await store.put(probe, bytes);
    written = true;
    const back = await store.get(probe);
    if (!back.equals(bytes)) {
      findings.push({ ok: false, message: `store ${where}: ${probe} came back with other bytes than were written (${back.length} bytes, not ${bytes.length})`, fix: 'something between this machine and the store alters data: check the service (or the disk)' });
      return findings;
    }
    await store.delete(probe);
    written = false;
    findings.push({ ok: true, message: `store ${where}: an object written, read back and removed (${Math.round(performance.now() - started)} ms)` });
  } catch (err) {
    findings.push(failedStep(`store ${where}: the round trip (write, read back, remove ${probe}) failed`, err));
    return findings;
  } finally {
    if (written) await store.delete(probe).catch(() => undefined);
  }

  // 3. Content by sha256: stored once, read back checked against its hash, removed.
  try {
    const ref = await store.putContent(randomBytes(64));
    try {
      await store.getContent(ref.sha256);
    } finally {
      await store.delete(ref.key).catch(() => undefined);
    }
    findings.push({ ok: true, message: `store ${where}: content stored by sha256 and read back checked` });
  } catch (err) {
    findings.push(failedStep(`store ${where}: content by sha256 could not be stored and read back`, err));
  }
  return findings;
}

/** A failed step: what the store said (StoreError: what happened, to what, where) and its fix. */
export function failedStep(step: string, err: unknown): Finding {
  if (isStoreError(err)) return { ok: false, message: `${step}: ${PROBLEM_WORDS[err.problem] ?? err.problem}: ${err.what}`, fix: err.fix };
  return { ok: false, message: `${step}: ${(err as Error)?.message ?? String(err)}`, fix: 'try again; if it recurs, run with BATON_DEBUG=1 and report the stack' };
}

const PROBLEM_WORDS: Record<string, string> = {
  'invalid-location': 'the location or its settings are wrong',
  unreachable: 'unreachable',
  'no-credentials': 'no credentials',
  denied: 'denied',
  'no-bucket': 'no such bucket',
  missing: 'an object is missing',
  'wrong-hash': 'wrong hash',
  changed: 'changed in transit',
  conflict: 'something is in the way',
  failed: 'failed',
};
