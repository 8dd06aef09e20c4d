/**
 * `baton doctor --store` without a network: the filesystem store's steps, BATON_STORE unset or
 * unusable (tests/integration/store-s3.test.ts checks an S3 store on a real server: reachable,
 * wrong credentials, no bucket, nothing at the endpoint).
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkStore, checkStoreFromEnvironment } from '../../src/client/store-doctor.js';
import { FilesystemStore } from '../../src/runner/store/index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'baton-store-doctor-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('baton doctor --store', () => {
  it('a directory store: readable, a round trip, content by hash; leaves nothing behind', async () => {
    const findings = await checkStore(new FilesystemStore(path.join(dir, 'store')));
    expect(findings.map((f) => f.ok)).toEqual([true, true, true]);
    expect(findings[0]!.message).toBe(`store the store directory ${path.join(dir, 'store')}: readable`);
    expect(findings[1]!.message).toMatch(/: an object written, read back and removed \(\d+ ms\)$/);
    expect(findings[2]!.message).toContain('content stored by sha256 and read back checked');
    const left: string[] = [];
    for await (const o of new FilesystemStore(path.join(dir, 'store')).list()) left.push(o.key);
    expect(left).toEqual([]);
  });

  it('reads BATON_STORE (relative to the cwd), and says when it is unset', async () => {
    const findings = await checkStoreFromEnvironment({ env: { BATON_STORE: 'store' }, cwd: dir });
    expect(findings.every((f) => f.ok)).toBe(true);
    expect(await readdir(path.join(dir, 'store'))).toEqual(expect.arrayContaining(['.baton-probe']));
    expect(await checkStoreFromEnvironment({ env: {} })).toEqual([
      { ok: true, message: 'BATON_STORE is not set: there is no object store to check (runs keep their files in their workdir)' },
    ]);
  });

  it('a BATON_STORE it cannot use: what is wrong and what it takes', async () => {
    const [finding, ...rest] = await checkStoreFromEnvironment({ env: { BATON_STORE: 'gs://bucket/x' } });
    expect(rest).toEqual([]);
    expect(finding).toEqual({
      ok: false,
      message: 'BATON_STORE (gs://bucket/x) cannot be used: the location or its settings are wrong: BATON_STORE is gs://bucket/x, whose scheme gs:// Baton does not know',
      fix: expect.stringContaining('for Google Cloud Storage, use its S3-compatible API: BATON_STORE=s3://bucket'),
    });
    const [badEndpoint] = await checkStoreFromEnvironment({ env: { BATON_STORE: 's3://bucket', AWS_ENDPOINT_URL_S3: 'localhost:9000' } });
    expect(badEndpoint!.ok).toBe(false);
    expect(badEndpoint!.message).toContain('AWS_ENDPOINT_URL_S3 is "localhost:9000", which is not an http:// or https:// URL');
  });

  it('a file where the store directory should be: the round trip fails, naming it and the fix', async () => {
    const file = path.join(dir, 'store');
    await writeFile(file, 'not a directory');
    const findings = await checkStore(new FilesystemStore(file));
    expect(findings.map((f) => f.ok)).toEqual([true, false]);
    expect(findings[1]!.message).toMatch(new RegExp(`^store the store directory ${file}: the round trip \\(write, read back, remove \\.baton-probe/doctor-[^)]+\\) failed: something is in the way: cannot write `));
    expect(findings[1]!.fix).toContain('remove what is in the way');
  });
});
