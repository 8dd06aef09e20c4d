/**
 * The store layer without a network: the filesystem store (the embedded default), keys, the
 * content-addressed operations and their hash checks, choosing a store from BATON_STORE, and the
 * words of the S3 store's errors that need no server to produce (tests/integration/store-s3.test.ts
 * has the rest, against a real S3 server).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkKey,
  contentKey,
  endpointFrom,
  FilesystemStore,
  openStore,
  parseStoreLocation,
  S3Store,
  StoreError,
  storeFromEnvironment,
  type Store,
} from '../../src/runner/store/index.js';
import { S3Backend } from '../../src/runner/store/s3-store.js';
import { sha, storeErrorOf } from '../support/store.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'baton-store-'));
  store = new FilesystemStore(path.join(dir, 'store'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});


async function keys(s: Store, prefix?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of s.list(prefix)) out.push(o.key);
  return out;
}


describe('filesystem store: objects by key', () => {
  it('puts, gets, heads and deletes an object; deleting a missing one is fine', async () => {
    expect(await store.put('runs/r1/outputs/phase_1.json', '{"a":1}')).toEqual({ key: 'runs/r1/outputs/phase_1.json', size: 7 });
    expect((await store.get('runs/r1/outputs/phase_1.json')).toString()).toBe('{"a":1}');
    expect(await readFile(path.join(dir, 'store/runs/r1/outputs/phase_1.json'), 'utf8')).toBe('{"a":1}');
    const info = await store.head('runs/r1/outputs/phase_1.json');
    expect(info?.size).toBe(7);
    expect(info?.modified).toBeInstanceOf(Date);
    await store.put('runs/r1/outputs/phase_1.json', 'replaced');
    expect((await store.get('runs/r1/outputs/phase_1.json')).toString()).toBe('replaced');
    await store.delete('runs/r1/outputs/phase_1.json');
    expect(await store.head('runs/r1/outputs/phase_1.json')).toBeUndefined();
    await store.delete('runs/r1/outputs/phase_1.json');
    await store.delete('never/was');
  });

  it('lists by string prefix, as S3 does, in key order, leaving out its own temporary files', async () => {
    for (const key of ['runs/b/x', 'runs/a/2', 'runs/a/1', 'runs/ab/y', 'other/z']) await store.put(key, key);
    await mkdir(path.join(dir, 'store/.baton-store/tmp'), { recursive: true });
    await writeFile(path.join(dir, 'store/.baton-store/tmp/leftover'), 'x');
    expect(await keys(store)).toEqual(['other/z', 'runs/a/1', 'runs/a/2', 'runs/ab/y', 'runs/b/x']);
    expect(await keys(store, 'runs/a')).toEqual(['runs/a/1', 'runs/a/2', 'runs/ab/y']);
    expect(await keys(store, 'runs/a/')).toEqual(['runs/a/1', 'runs/a/2']);
    expect(await keys(store, 'nothing/')).toEqual([]);
    expect(await keys(new FilesystemStore(path.join(dir, 'not-made-yet')))).toEqual([]);
  });

  it('streams an object in and out, and writes a file only once it is whole', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const info = await store.putStream('blobs/big', Readable.from([big.subarray(0, 1000), big.subarray(1000)]));
    expect(info.size).toBe(big.length);
    const chunks: Buffer[] = [];
    for await (const c of await store.getStream('blobs/big')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(big)).toBe(true);

    const source = path.join(dir, 'source.bin');
    await writeFile(source, big);
    expect(await store.putFile('blobs/from-file', source)).toEqual({ key: 'blobs/from-file', size: big.length });
    const target = path.join(dir, 'deep/new/dir/copy.bin');
    expect(await store.getFile('blobs/from-file', target)).toEqual({ key: 'blobs/from-file', size: big.length });
    expect((await readFile(target)).equals(big)).toBe(true);
    expect(await readdir(path.dirname(target))).toEqual(['copy.bin']); // no temporary file left
  });

  it('says what is missing, where, and what to do', async () => {
    const err = await storeErrorOf(store.get('runs/r1/outputs/phase_9.json'));
    expect(err.problem).toBe('missing');
    expect(err.key).toBe('runs/r1/outputs/phase_9.json');
    expect(err.message).toContain(`runs/r1/outputs/phase_9.json is not in the store directory ${path.join(dir, 'store')}`);
    expect(err.message).toContain('check BATON_STORE names the same store on every machine');
    expect((await storeErrorOf(store.getFile('nope', path.join(dir, 'out')))).problem).toBe('missing');
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
    // A key whose "folder" is an object is missing too, not an error of another kind.
    await store.put('a', 'x');
    expect((await storeErrorOf(store.get('a/b'))).problem).toBe('missing');
    expect(await store.head('a/b')).toBeUndefined();
  });

  it('refuses keys that would not mean the same everywhere, before touching anything', async () => {
    for (const key of ['', '/abs', 'a//b', 'a/', 'a/../b', './a', 'a\\b', 'a\nb', '.baton-store/tmp/x', 'x'.repeat(901)]) {
      const err = await storeErrorOf(store.put(key, 'x'));
      expect(err.problem, key).toBe('invalid-key');
      expect(err.message).toContain('use a relative path such as runs/<run>/outputs/phase_1.json');
    }
    expect(() => checkKey('runs/r-1/logs/phase_1.g1.a1.stderr.log')).not.toThrow();
    expect(() => checkKey('.cache/x')).not.toThrow(); // dot files are fine, only .baton-store/ is the store's
    expect((await storeErrorOf((async () => { for await (const _ of store.list('../')) void _; })())).problem).toBe('invalid-key');
  });

  it('names a key that cannot live beside another on a filesystem', async () => {
    await store.put('a', 'x');
    const err = await storeErrorOf(store.put('a/b', 'y'));
    expect(err.problem).toBe('conflict');
    expect(err.message).toContain('a key cannot name both an object and a folder of objects on a filesystem');
  });

  it('a directory this user may not write: says so, with the fix (the mapping; as root, chmod cannot refuse)', () => {
    const backend = (store as unknown as { backend: { problem(err: unknown, key: string, doing: string): StoreError } }).backend;
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', path: path.join(dir, 'store/runs') });
    const err = backend.problem(denied, 'runs/r1/x', 'write');
    expect(err.problem).toBe('denied');
    expect(err.message).toContain(`may not write runs/r1/x in the store directory ${path.join(dir, 'store')} (EACCES on ${path.join(dir, 'store/runs')})`);
    expect(err.message).toContain(`give it access (chown or chmod ${path.join(dir, 'store')}), or point BATON_STORE at a directory it may write`);
    const full = backend.problem(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }), 'k', 'write');
    expect(full.message).toContain('cannot write k in the store directory');
    expect(full.message).toContain('no space left on its filesystem; free space or raise the quota there');
  });

  it('check() makes the directory and proves it can be written; a file in the way is named', async () => {
    await store.check();
    expect(existsSync(path.join(dir, 'store'))).toBe(true);
    expect(await keys(store)).toEqual([]); // the probe is gone
    await writeFile(path.join(dir, 'a-file'), 'x');
    const err = await storeErrorOf(new FilesystemStore(path.join(dir, 'a-file', 'store')).check());
    expect(err.problem).toBe('conflict');
    expect(err.message).toContain(path.join(dir, 'a-file'));
  });
});

describe('filesystem store: content by sha256', () => {
  it('stores content once under its hash and gives it back checked', async () => {
    const value = JSON.stringify({ report: 'x'.repeat(4096) });
    const ref = await store.putContent(value);
    expect(ref).toEqual({ sha256: sha(value), size: Buffer.byteLength(value), key: contentKey(sha(value)) });
    expect(ref.key).toBe(`content/sha256/${ref.sha256.slice(0, 2)}/${ref.sha256}`);
    expect(await store.putContent(value)).toEqual(ref);
    expect(await keys(store, 'content/')).toEqual([ref.key]);
    expect((await store.getContent(ref.sha256)).toString()).toBe(value);
    expect(await store.hasContent(ref.sha256)).toEqual(ref);
    expect(await store.hasContent(sha('never stored'))).toBeUndefined();
  });

  it('stores a file by its hash, streamed, and fetches it into a file checked', async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    const source = path.join(dir, 'artifact.bin');
    await writeFile(source, bytes);
    const ref = await store.putContentFile(source);
    expect(ref.sha256).toBe(sha(bytes));
    expect(ref.size).toBe(bytes.length);
    const target = path.join(dir, 'cache/artifact.bin');
    expect(await store.getContentFile(ref.sha256, target)).toEqual(ref);
    expect((await readFile(target)).equals(bytes)).toBe(true);
  });

  it('refuses content whose bytes no longer have its hash, on every way of reading it', async () => {
    const ref = await store.putContent('the recorded value');
    // Changed in place after it was stored: same key, other bytes (one character, same size).
    await writeFile(path.join(dir, 'store', ...ref.key.split('/')), 'the recorded valuE');

    const err = await storeErrorOf(store.getContent(ref.sha256));
    expect(err.problem).toBe('wrong-hash');
    expect(err.message).toContain(`${ref.key} in the store directory`);
    expect(err.message).toContain(`not ${ref.sha256.slice(0, 12)}…`);
    expect(err.message).toContain('it was changed or damaged after it was stored, and is refused');
    expect(err.message).toContain('delete it and store the content again from a good copy');

    // Into a file: nothing appears, and a file already there is left as it was.
    const target = path.join(dir, 'cache/value.json');
    expect((await storeErrorOf(store.getContentFile(ref.sha256, target))).problem).toBe('wrong-hash');
    expect(existsSync(target)).toBe(false);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, 'previous');
    expect((await storeErrorOf(store.getContentFile(ref.sha256, target))).problem).toBe('wrong-hash');
    expect(await readFile(target, 'utf8')).toBe('previous');
    expect(await readdir(path.dirname(target))).toEqual(['value.json']);

    // As a stream: the bytes flow, and the stream fails at its end.
    const stream = await store.getContentStream(ref.sha256);
    const read = (async () => {
      for await (const _ of stream) void _;
    })();
    expect((await storeErrorOf(read)).problem).toBe('wrong-hash');

    // Deleting it and storing the value again mends it.
    await store.delete(ref.key);
    await store.putContent('the recorded value');
    expect((await store.getContent(ref.sha256)).toString()).toBe('the recorded value');
  });

  it('a truncated content object is stored again rather than kept', async () => {
    const ref = await store.putContent('0123456789');
    await writeFile(path.join(dir, 'store', ...ref.key.split('/')), '01234');
    await store.putContent('0123456789');
    expect((await store.getContent(ref.sha256)).toString()).toBe('0123456789');
  });

  it('says when content is missing, and refuses what is not a sha256', async () => {
    const err = await storeErrorOf(store.getContent(sha('absent')));
    expect(err.problem).toBe('missing');
    expect(err.message).toContain(`content/sha256/${sha('absent').slice(0, 2)}/${sha('absent')} is not in the store directory`);
    expect((await storeErrorOf(store.getContent('ABC'))).message).toContain('"ABC" is not a sha256 (64 lowercase hex digits)');
  });

  it('names a local file that cannot be stored', async () => {
    const err = await storeErrorOf(store.putContentFile(path.join(dir, 'absent.bin')));
    expect(err.problem).toBe('local-file');
    expect(err.message).toContain(`${path.join(dir, 'absent.bin')} does not exist`);
    expect((await storeErrorOf(store.putFile('k', dir))).message).toContain(`${dir} is not a file`);
  });
});

describe('choosing a store: BATON_STORE', () => {
  it('takes a directory (relative to the cwd), a file:// URL, or s3://bucket/prefix', () => {
    expect(parseStoreLocation('/srv/store')).toEqual({ kind: 'filesystem', directory: '/srv/store' });
    expect(parseStoreLocation('store', '/home/me')).toEqual({ kind: 'filesystem', directory: '/home/me/store' });
    expect(parseStoreLocation('file:///srv/baton%20store')).toEqual({ kind: 'filesystem', directory: '/srv/baton store' });
    expect(parseStoreLocation('s3://my-bucket')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: '' });
    expect(parseStoreLocation('s3://my-bucket/')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: '' });
    expect(parseStoreLocation(' s3://my-bucket/teams/ml/baton/ ')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: 'teams/ml/baton' });
  });

  it('refuses what it cannot use, saying what it takes', () => {
    const cases: Array<[string, string]> = [
      ['', 'BATON_STORE takes a directory'],
      ['s3://', 'does not start with a bucket name'],
      ['s3:///prefix', 'does not start with a bucket name'],
      ['s3://b/prefix', 'does not start with a bucket name'],
      ['s3://bucket/a/../b', 'has a . or .. segment'],
      ['s3://bucket/p?versionId=1', 'has a query or fragment'],
      ['gs://bucket/p', 'AWS_ENDPOINT_URL_S3=https://storage.googleapis.com'],
      ['https://s3.example.com/bucket', 'an endpoint goes in AWS_ENDPOINT_URL_S3'],
      ['azure://x', 'BATON_STORE takes a directory'],
    ];
    for (const [text, words] of cases) {
      let err: unknown;
      try {
        parseStoreLocation(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(StoreError);
      expect((err as StoreError).problem).toBe('invalid-location');
      expect((err as StoreError).message, text).toContain(words);
    }
  });

  it('uses BATON_STORE when set, and the default directory when not', () => {
    const fallback = storeFromEnvironment('.baton/x', { env: {}, cwd: '/plans' });
    expect(fallback).toBeInstanceOf(FilesystemStore);
    expect(fallback.location).toBe('/plans/.baton/x');
    expect(storeFromEnvironment('.baton/x', { env: { BATON_STORE: '  ' }, cwd: '/plans' }).location).toBe('/plans/.baton/x');
    expect(storeFromEnvironment('.baton/x', { env: { BATON_STORE: '/shared/store' } }).location).toBe('/shared/store');
    const s3 = storeFromEnvironment('.baton/x', { env: { BATON_STORE: 's3://team-bucket/baton', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7070/', AWS_REGION: 'eu-west-1' } });
    expect(s3).toBeInstanceOf(S3Store);
    expect(s3.location).toBe('s3://team-bucket/baton');
    expect(s3.description).toBe('s3://team-bucket/baton at http://127.0.0.1:7070 (from AWS_ENDPOINT_URL_S3)');
    (s3 as S3Store).destroy();
  });

  it('takes the S3 endpoint from AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL, with path-style addresses', async () => {
    expect(endpointFrom({})).toBeUndefined();
    expect(endpointFrom({ AWS_ENDPOINT_URL: 'https://all.example.com' })).toEqual({ url: 'https://all.example.com', source: 'AWS_ENDPOINT_URL' });
    expect(endpointFrom({ AWS_ENDPOINT_URL: 'https://all.example.com', AWS_ENDPOINT_URL_S3: 'https://s3.example.com' })).toEqual({ url: 'https://s3.example.com', source: 'AWS_ENDPOINT_URL_S3' });
    expect(() => endpointFrom({ AWS_ENDPOINT_URL_S3: '127.0.0.1:7070' })).toThrow(/AWS_ENDPOINT_URL_S3 is "127.0.0.1:7070", which is not/);
    const s3 = openStore('s3://bucket/p', { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:7070' } }) as S3Store;
    const config = (s3 as unknown as { backend: S3Backend }).backend.client.config;
    expect(config.forcePathStyle).toBe(true);
    expect(await config.region()).toBe('us-east-1');
    s3.destroy();
  });
});

describe('S3 store errors that need no server', () => {
  const backend = (): S3Backend => new S3Backend({ bucket: 'team-bucket', prefix: 'baton', endpoint: 'http://127.0.0.1:7070', endpointSource: 'AWS_ENDPOINT_URL_S3' });

  it('no credentials found: says which ways the SDK looks', () => {
    const b = backend();
    const err = b.problem(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'k', 'read') as StoreError;
    expect(err.problem).toBe('no-credentials');
    expect(err.message).toContain('cannot read k in s3://team-bucket/baton at http://127.0.0.1:7070 (from AWS_ENDPOINT_URL_S3): no AWS credentials were found');
    expect(err.message).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE');
    b.destroy();
  });

  it('access denied: names the permission that is missing', () => {
    const b = backend();
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const err = b.problem(denied, 'runs/r/x', 'write') as StoreError;
    expect(err.problem).toBe('denied');
    expect(err.message).toContain('lack s3:PutObject on arn:aws:s3:::team-bucket/baton/*');
    // A HEAD's 403 has no body: the SDK calls it Unknown, which says nothing; the status does.
    const head = Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 403 } });
    expect(b.problem(head, 'runs/r/x', 'read').message).toContain('cannot read runs/r/x in s3://team-bucket/baton at http://127.0.0.1:7070 (from AWS_ENDPOINT_URL_S3): access denied (HTTP 403); the credentials in use lack s3:GetObject');
    b.destroy();
  });

  it('a bucket in another region, and no region at all', () => {
    const b = backend();
    expect((b.problem(Object.assign(new Error('moved'), { name: 'PermanentRedirect', $metadata: { httpStatusCode: 301 } }), 'k', 'read') as StoreError).message).toContain(
      "is in another region (PermanentRedirect); set AWS_REGION to the bucket's region",
    );
    expect((b.problem(new Error('Region is missing'), 'k', 'read') as StoreError).message).toContain('no region is set; set AWS_REGION');
    b.destroy();
  });
});
