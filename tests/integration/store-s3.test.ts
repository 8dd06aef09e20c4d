/**
 * The S3 store against a real S3-compatible server (the Versity S3 gateway this file starts, on a
 * free loopback port, from scripts/s3-dev.sh's build: tests/support/s3-server.ts): objects and content by
 * hash, a 20 MB object in parts, tampered objects refused, and the words of each failure (missing
 * object, missing bucket, wrong credentials, an endpoint nothing answers on). Credentials reach the
 * store as they do on a user's machine: through the SDK's standard chain, from the environment.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentKey, openStore, PART_SIZE, S3Store, storeFromEnvironment, type Store } from '../../src/runner/store/index.js';
import { freePort } from '../support/ports.js';
import { baton } from '../support/baton.js';
import { useS3Server } from '../support/s3-server.js';
import { checkStoreFromEnvironment } from '../../src/client/store-doctor.js';
import { sha, storeErrorOf } from '../support/store.js';

// Built (the first time on a machine) and started before the first test, stopped after the last;
// with no server, each test fails with the reason (counted as failures, with what to do).
const server = useS3Server();
const prefix = `it-${process.pid}-${randomBytes(3).toString('hex')}`;
let endpoint: string;
let bucket: string;
let dataDir: string;
let env: Record<string, string>;

let dir: string;
let store: S3Store;
const opened: S3Store[] = [];
const savedEnv = { ...process.env };

/** A store on the test server, with the credentials the environment holds now (the SDK reads them when it first signs). */
function s3(location = `s3://${bucket}/${prefix}`, more: Record<string, string> = {}): S3Store {
  const s = openStore(location, { env: { ...env, ...more } }) as S3Store;
  opened.push(s);
  return s;
}



async function keys(s: Store, p?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of s.list(p)) out.push(o.key);
  return out;
}

/** The file the posix backend keeps an object of the store in. */
const objectFile = (key: string): string => path.join(dataDir, bucket, prefix, ...key.split('/'));

beforeAll(async () => {
  if (server.problem) return;
  ({ endpoint, bucket, dataDir } = server);
  env = { AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: server.region };
  // Where a user's machine keeps them: the SDK's standard chain finds them in the environment.
  process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
  for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[name];
  dir = await mkdtemp(path.join(os.tmpdir(), 'baton-s3-test-'));
  store = s3();
});

afterAll(async () => {
  for (const s of opened) s.destroy();
  process.env = savedEnv;
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('S3 store on a real S3-compatible server', () => {
  it('is what BATON_STORE=s3://bucket/prefix opens, with AWS_ENDPOINT_URL_S3', async () => {
    const chosen = storeFromEnvironment('/unused', { env: { ...env, BATON_STORE: `s3://${bucket}/${prefix}` } }) as S3Store;
    opened.push(chosen);
    expect(chosen).toBeInstanceOf(S3Store);
    expect(chosen.description).toBe(`s3://${bucket}/${prefix} at ${endpoint} (from AWS_ENDPOINT_URL_S3)`);
    await chosen.check(); // reachable, credentials taken, bucket there, an object written, read and removed
    expect(await keys(chosen)).toEqual([]);
  });

  it('puts, gets, heads, lists and deletes objects under its prefix', async () => {
    await store.put('runs/r1/outputs/phase_1.json', '{"ok":true}');
    await store.put('runs/r1/outputs/phase_2.json', '{"ok":false}');
    await store.put('runs/r10/x', 'x');
    expect((await store.get('runs/r1/outputs/phase_1.json')).toString()).toBe('{"ok":true}');
    // Path-style, under the prefix: the server keeps it as <bucket>/<prefix>/<key>.
    expect(await readFile(objectFile('runs/r1/outputs/phase_1.json'), 'utf8')).toBe('{"ok":true}');
    expect((await store.head('runs/r1/outputs/phase_2.json'))?.size).toBe(12);
    expect(await store.head('runs/r1/outputs/phase_3.json')).toBeUndefined();
    expect(await keys(store, 'runs/r1/')).toEqual(['runs/r1/outputs/phase_1.json', 'runs/r1/outputs/phase_2.json']);
    expect(await keys(store, 'runs/r1')).toEqual(['runs/r1/outputs/phase_1.json', 'runs/r1/outputs/phase_2.json', 'runs/r10/x']);
    await store.delete('runs/r1/outputs/phase_1.json');
    await store.delete('runs/r1/outputs/phase_1.json'); // again: not an error
    expect(await keys(store, 'runs/r1/')).toEqual(['runs/r1/outputs/phase_2.json']);
  });

  it('a 20 MB artifact: stored by hash in parts, fetched into a file and checked, stored once', async () => {
    const size = 20 * 1024 * 1024;
    const bytes = randomBytes(size);
    const source = path.join(dir, 'model.bin');
    await writeFile(source, bytes);
    expect(size).toBeGreaterThan(PART_SIZE); // so it goes up as a multipart upload

    let t = performance.now();
    const ref = await store.putContentFile(source);
    const putMs = performance.now() - t;
    expect(ref).toEqual({ sha256: sha(bytes), size, key: contentKey(sha(bytes)) });

    const target = path.join(dir, 'cache', 'model.bin');
    t = performance.now();
    expect(await store.getContentFile(ref.sha256, target)).toEqual(ref);
    const getMs = performance.now() - t;
    expect(sha(await readFile(target))).toBe(ref.sha256);

    t = performance.now();
    expect(await store.putContentFile(source)).toEqual(ref); // already there: one HEAD, nothing sent
    const againMs = performance.now() - t;
    console.log(`20 MB on the S3 dev server: put ${putMs.toFixed(0)} ms (hash and multipart upload), get ${getMs.toFixed(0)} ms (download and check), put again ${againMs.toFixed(0)} ms (hash and HEAD)`);

    // Plain keys stream too, and getFile writes the file only when it is whole.
    await store.putFile('runs/r1/artifacts/model.bin', source);
    await store.getFile('runs/r1/artifacts/model.bin', path.join(dir, 'plain', 'model.bin'));
    expect(sha(await readFile(path.join(dir, 'plain', 'model.bin')))).toBe(ref.sha256);
    expect(await readdir(path.join(dir, 'plain'))).toEqual(['model.bin']);
  });

  it('refuses a content object whose bytes were changed in the store', async () => {
    const value = JSON.stringify({ summary: 'y'.repeat(3000) });
    const ref = await store.putContent(value);
    expect((await store.getContent(ref.sha256)).toString()).toBe(value);

    // Someone overwrites the object through the S3 API with other bytes of the same size.
    await store.put(ref.key, value.replace('yyy', 'yzy'));
    const err = await storeErrorOf(store.getContent(ref.sha256));
    expect(err.problem).toBe('wrong-hash');
    expect(err.message).toContain(`${ref.key} in s3://${bucket}/${prefix} at ${endpoint} (from AWS_ENDPOINT_URL_S3) has sha256`);
    expect(err.message).toContain(`not ${ref.sha256.slice(0, 12)}…: it was changed or damaged after it was stored, and is refused`);
    const target = path.join(dir, 'tampered.json');
    expect((await storeErrorOf(store.getContentFile(ref.sha256, target))).problem).toBe('wrong-hash');
    expect(existsSync(target)).toBe(false);
    const stream = await store.getContentStream(ref.sha256);
    expect(
      (
        await storeErrorOf(
          (async () => {
            for await (const _ of stream) void _;
          })(),
        )
      ).problem,
    ).toBe('wrong-hash');
  });

  it('refuses a large object with one byte flipped on the server’s disk, leaving no file', async () => {
    const bytes = randomBytes(PART_SIZE + 1024 * 1024);
    const source = path.join(dir, 'big.bin');
    await writeFile(source, bytes);
    const ref = await store.putContentFile(source);
    const file = await open(objectFile(ref.key), 'r+');
    const at = 12_345_678;
    const one = Buffer.alloc(1);
    await file.read(one, 0, 1, at);
    one[0] = one[0]! ^ 0x01;
    await file.write(one, 0, 1, at);
    await file.close();
    const target = path.join(dir, 'big-copy.bin');
    const err = await storeErrorOf(store.getContentFile(ref.sha256, target));
    expect(err.problem).toBe('wrong-hash');
    expect(err.message).toContain(`(${bytes.length} bytes)`);
    expect(existsSync(target)).toBe(false);
    expect((await readdir(dir)).filter((n) => n.includes('baton-tmp'))).toEqual([]);
  });

  it('says when an object is missing, and when the bucket is', async () => {
    const err = await storeErrorOf(store.get('runs/r1/outputs/phase_9.json'));
    expect(err.problem).toBe('missing');
    expect(err.message).toBe(
      `runs/r1/outputs/phase_9.json is not in s3://${bucket}/${prefix} at ${endpoint} (from AWS_ENDPOINT_URL_S3); it was never stored there, or was removed: check that BATON_STORE names the same store on every machine, or store it again`,
    );
    expect((await storeErrorOf(store.getContent(sha('never stored')))).problem).toBe('missing');
    expect(await store.hasContent(sha('never stored'))).toBeUndefined();

    const nowhere = s3('s3://no-such-bucket/baton');
    const noBucket = await storeErrorOf(nowhere.get('x'));
    expect(noBucket.problem).toBe('no-bucket');
    expect(noBucket.message).toBe(
      `cannot read x: the bucket no-such-bucket does not exist at ${endpoint} (from AWS_ENDPOINT_URL_S3); create it (aws s3 mb s3://no-such-bucket --endpoint-url ${endpoint}) or correct BATON_STORE`,
    );
    // A HEAD's 404 carries no code: the store asks about the bucket before saying "not there".
    expect((await storeErrorOf(nowhere.head('x'))).problem).toBe('no-bucket');
    expect((await storeErrorOf(nowhere.check())).problem).toBe('no-bucket');
  });

  it('says when the credentials are wrong', async () => {
    try {
      // The SDK's chain reads the environment when a store first signs a request.
      process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
      const err = await storeErrorOf(s3().get('runs/r1/outputs/phase_2.json'));
      expect(err.problem).toBe('denied');
      expect(err.message).toBe(
        `cannot read runs/r1/outputs/phase_2.json in s3://${bucket}/${prefix} at ${endpoint} (from AWS_ENDPOINT_URL_S3): the service refused the credentials (SignatureDoesNotMatch); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile AWS_PROFILE names, or the role) against the ones this service issued`,
      );
      // HEAD (403, no body), then the bucket's listing, which names the reason.
      expect((await storeErrorOf(s3().putContent('anything'))).message).toContain('the service refused the credentials (SignatureDoesNotMatch)');
      expect((await storeErrorOf(s3().head('x'))).message).toContain('the service refused the credentials (SignatureDoesNotMatch)');
      expect((await storeErrorOf(s3().check())).problem).toBe('denied');

      // An access key the service does not know (the Versity gateway answers 404, not 403): not "missing".
      process.env.AWS_ACCESS_KEY_ID = 'nobody';
      const unknown = await storeErrorOf(s3().get('runs/r1/outputs/phase_2.json'));
      expect(unknown.problem).toBe('denied');
      expect(unknown.message).toContain('the service refused the credentials (XAdminUserNotFound)');
      expect((await storeErrorOf(s3().putContent('anything'))).problem).toBe('denied'); // HEAD says 404: the listing tells
      expect((await storeErrorOf(s3().head('x'))).problem).toBe('denied');
    } finally {
      process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
    }
    // A store opened with the right ones works as before.
    expect((await s3().get('runs/r1/outputs/phase_2.json')).toString()).toBe('{"ok":false}');
  });

  it('says when nothing answers at the endpoint, within seconds', async () => {
    const port = await freePort(); // free now: nothing listens there
    const dead = s3(`s3://${bucket}/${prefix}`, { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` });
    const t = performance.now();
    const err = await storeErrorOf(dead.get('runs/r1/outputs/phase_2.json'));
    const ms = performance.now() - t;
    expect(err.problem).toBe('unreachable');
    expect(err.message).toContain(`cannot read runs/r1/outputs/phase_2.json in s3://${bucket}/${prefix} at http://127.0.0.1:${port} (from AWS_ENDPOINT_URL_S3): the service cannot be reached (ECONNREFUSED`);
    expect(err.message).toContain(`check that the service runs and that AWS_ENDPOINT_URL_S3 (http://127.0.0.1:${port}) is its address`);
    expect(ms).toBeLessThan(10_000);
    console.log(`unreachable endpoint reported in ${ms.toFixed(0)} ms (the SDK's 3 attempts)`);
    expect((await storeErrorOf(dead.check())).problem).toBe('unreachable');
  });
});

describe('baton doctor --store on a real S3-compatible server', () => {
  const check = (more: Record<string, string> = {}): ReturnType<typeof checkStoreFromEnvironment> =>
    checkStoreFromEnvironment({ env: { ...env, BATON_STORE: `s3://${bucket}/${prefix}-doctor`, ...more } });

  it('reachable, credentials and bucket, a round trip, content by hash; nothing left behind', async () => {
    const findings = await check();
    const where = `s3://${bucket}/${prefix}-doctor at ${endpoint} (from AWS_ENDPOINT_URL_S3)`;
    expect(findings.map((f) => f.ok)).toEqual([true, true, true]);
    expect(findings[0]!.message).toBe(`store ${where}: reachable, the credentials accepted, the bucket there`);
    expect(findings[1]!.message).toMatch(/: an object written, read back and removed \(\d+ ms\)$/);
    expect(await keys(s3(`s3://${bucket}/${prefix}-doctor`))).toEqual([]);
  });

  it('one clear finding per failure: no bucket, wrong secret, unknown key, no credentials, nothing at the endpoint', async () => {
    const failedCheck = ': the check of the endpoint, the credentials and the bucket failed: ';
    const [noBucket, ...afterNoBucket] = await checkStoreFromEnvironment({ env: { ...env, BATON_STORE: 's3://no-such-bucket' } });
    expect(afterNoBucket).toEqual([]);
    expect(noBucket).toEqual({
      ok: false,
      message: `store s3://no-such-bucket at ${endpoint} (from AWS_ENDPOINT_URL_S3)${failedCheck}no such bucket: the bucket no-such-bucket does not exist at ${endpoint} (from AWS_ENDPOINT_URL_S3)`,
      fix: `create it (aws s3 mb s3://no-such-bucket --endpoint-url ${endpoint}) or correct BATON_STORE`,
    });

    // Credentials come from the SDK's chain, which reads the process's environment.
    const saved = { ...process.env };
    let wrongSecret, unknownKey, none;
    try {
      process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
      [wrongSecret] = await check();
      process.env.AWS_ACCESS_KEY_ID = 'nobody';
      [unknownKey] = await check();
      for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
      Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'), AWS_CONFIG_FILE: path.join(dir, 'none'), AWS_EC2_METADATA_DISABLED: 'true' });
      [none] = await check();
    } finally {
      process.env = saved;
    }
    expect(wrongSecret!.ok).toBe(false);
    // A HEAD's 403 says no more: the store asks the bucket's listing, which names the reason.
    expect(wrongSecret!.message).toContain(`${failedCheck}denied: cannot reach the bucket of s3://${bucket}/${prefix}-doctor`);
    expect(wrongSecret!.message).toContain('the service refused the credentials (SignatureDoesNotMatch)');
    expect(unknownKey!.message).toContain(`${failedCheck}denied: cannot reach the bucket of s3://${bucket}/${prefix}-doctor`);
    expect(unknownKey!.message).toContain('the service refused the credentials (XAdminUserNotFound)');
    expect(unknownKey!.fix).toContain('check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    expect(none!.message).toContain(`${failedCheck}no credentials: `);
    expect(none!.fix).toContain('give this machine credentials the SDK finds');

    const port = await freePort();
    const t = performance.now();
    const [unreachable] = await check({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` });
    expect(unreachable!.message).toContain(`store s3://${bucket}/${prefix}-doctor at http://127.0.0.1:${port} (from AWS_ENDPOINT_URL_S3)${failedCheck}unreachable: `);
    expect(unreachable!.fix).toBe(`check that the service runs and that AWS_ENDPOINT_URL_S3 (http://127.0.0.1:${port}) is its address`);
    expect(performance.now() - t).toBeLessThan(10_000);
    console.log(`doctor --store findings:\n${[noBucket, wrongSecret, unknownKey, none, unreachable].map((f) => `  ${f!.message}\n    → ${f!.fix}`).join('\n')}`);
  });

  it('from the CLI: baton doctor --store prints a line per step and exits 0, or 1 naming the problem', async () => {
    const good = await baton(['doctor', '--store'], { env: { ...env, BATON_STORE: `s3://${bucket}/${prefix}-doctor` }, timeoutMs: 30_000 });
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain(`✓ store s3://${bucket}/${prefix}-doctor at ${endpoint} (from AWS_ENDPOINT_URL_S3): reachable, the credentials accepted, the bucket there`);
    expect(good.stdout.trim().split('\n')).toHaveLength(3);
    const bad = await baton(['doctor', '--store', '--json'], { env: { ...env, BATON_STORE: 's3://no-such-bucket' }, timeoutMs: 30_000 });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual([expect.objectContaining({ ok: false, fix: `create it (aws s3 mb s3://no-such-bucket --endpoint-url ${endpoint}) or correct BATON_STORE` })]);
    const neither = await baton(['doctor'], { timeoutMs: 30_000 });
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('baton: doctor needs a run id (baton doctor <run-id>), or --store to check the object store');
  });
});
