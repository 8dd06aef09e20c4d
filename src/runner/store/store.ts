/**
 * The store: where a run's files live when machines share nothing but Temporal and an object
 * store (issue 16). Objects are named by keys (`runs/<id>/outputs/phase_3.json`); content-addressed
 * objects by their sha256 (`content/sha256/ab/ab12…`), checked against that hash on every read.
 * Two backends: a directory (the embedded default; see fs-store.ts) and any S3-compatible service
 * (s3-store.ts). `openStore()` (open-store.ts) picks one from `BATON_STORE`.
 *
 * Backends implement the plain operations on keys (StoreBackend); `BaseStore` adds the
 * content-addressed ones on top of them, the same for both, so the hash is computed and checked
 * in one place.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { PassThrough, pipeline as pipelineWithCallback, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StoreError } from './errors.js';

export { StoreError, type StoreProblem } from './errors.js';

/** An object in the store. `modified` is the backend's own time (file mtime, S3 LastModified). */
export interface StoredObject {
  key: string;
  size: number;
  modified?: Date;
}

/** A content-addressed object: its hash, its size, and the key it is stored under. */
export interface ContentRef {
  sha256: string;
  size: number;
  key: string;
}

export type Body = Buffer | Uint8Array | string;

/**
 * A store of objects by key. Keys are relative, `/`-separated paths (see checkKey); every
 * operation names the store and the key in its errors (StoreError, with the problem and the fix).
 */
export interface Store {
  /** The store as BATON_STORE would name it: an absolute directory, or `s3://bucket/prefix`. */
  readonly location: string;
  /** For messages: the location, and for S3 the endpoint and where it came from. */
  readonly description: string;

  /** Writes an object whole (replacing any object of that key), from memory. */
  put(key: string, body: Body): Promise<StoredObject>;
  /** Writes an object from a stream of unknown length: nothing is held in memory but a part. */
  putStream(key: string, body: Readable): Promise<StoredObject>;
  /** Writes an object from a file, streamed (S3: in parts when large). */
  putFile(key: string, file: string): Promise<StoredObject>;
  /** An object's bytes; a missing object is a StoreError `missing`. */
  get(key: string): Promise<Buffer>;
  /** An object as a stream, for large ones. */
  getStream(key: string): Promise<Readable>;
  /** Writes an object to a file: to a temporary name beside it, renamed into place when whole. */
  getFile(key: string, file: string): Promise<StoredObject>;
  /** The object's size and time, or undefined when there is none by that key. */
  head(key: string): Promise<StoredObject | undefined>;
  /** Every object whose key starts with `prefix` (a string prefix, as in S3), in key order. */
  list(prefix?: string): AsyncIterable<StoredObject>;
  /** Removes an object; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;

  /** Stores bytes under their sha256 (once: an object already there of that hash is kept). */
  putContent(body: Body): Promise<ContentRef>;
  /** Stores a file under its sha256, streamed; refused if the file changes while it is stored. */
  putContentFile(file: string): Promise<ContentRef>;
  /** Whether the content of that hash is stored, and its size. */
  hasContent(sha256: string): Promise<ContentRef | undefined>;
  /** The bytes of that hash, checked: a StoreError `wrong-hash` if the stored object differs. */
  getContent(sha256: string): Promise<Buffer>;
  /**
   * The bytes of that hash as a stream, checked as they flow: the stream errors (StoreError
   * `wrong-hash`) at its end if they differ, so take them for good only when it ends cleanly
   * (getContentFile does that for a file).
   */
  getContentStream(sha256: string): Promise<Readable>;
  /** The bytes of that hash into a file, which appears only once they are whole and checked. */
  getContentFile(sha256: string, file: string): Promise<ContentRef>;

  /** Checks the store can be reached, read and written (a small probe object, removed after). */
  check(): Promise<void>;
}

/** Where content-addressed objects live: `content/sha256/<first two hex digits>/<hash>`. */
export function contentKey(sha256: string): string {
  checkSha256(sha256);
  return `content/sha256/${sha256.slice(0, 2)}/${sha256}`;
}

const SHA256 = /^[0-9a-f]{64}$/;

export function checkSha256(sha256: string): void {
  if (!SHA256.test(sha256)) {
    throw new StoreError('invalid-key', `"${sha256}" is not a sha256 (64 lowercase hex digits)`, 'pass the hash as Baton recorded it');
  }
}

/** The top-level name the filesystem store keeps its temporary files under; no key may use it. */
export const RESERVED_SEGMENT = '.baton-store';
const MAX_KEY_BYTES = 900; // S3 allows 1,024 bytes with the bucket's prefix; leave room for one

/**
 * Keys are relative paths that mean the same on every backend: `/`-separated, no empty, `.` or `..`
 * segment, no leading or trailing `/`, no backslash or control character, at most 900 bytes, and
 * not under `.baton-store/` (the filesystem store's own).
 */
export function checkKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) throw new StoreError('invalid-key', `the key ${JSON.stringify(key)} ${problem}`, 'use a relative path such as runs/<run>/outputs/phase_1.json');
}

function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'is empty';
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `is longer than ${MAX_KEY_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(key)) return 'has a backslash or a control character';
  if (key.startsWith('/')) return 'is absolute (starts with /)';
  const segments = key.split('/');
  if (segments.some((s) => s === '')) return 'has an empty segment (// or a trailing /)';
  if (segments.some((s) => s === '.' || s === '..')) return 'has a . or .. segment';
  if (segments[0] === RESERVED_SEGMENT) return `is under ${RESERVED_SEGMENT}/, which the filesystem store keeps for itself`;
  return undefined;
}

/** A prefix for list(): empty (everything), or a key's beginning (it may end in `/`). */
export function checkPrefix(prefix: string): void {
  if (prefix === '') return;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const problem = trimmed === '' ? 'is only /' : keyProblem(trimmed);
  if (problem) throw new StoreError('invalid-key', `the prefix ${JSON.stringify(prefix)} ${problem}`, 'list with a key prefix such as runs/<run>/');
}

export function toBuffer(body: Body): Buffer {
  if (typeof body === 'string') return Buffer.from(body);
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A pass-through stream that hashes and counts what flows through it. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  private hex: string | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  /** The sha256 of everything that passed; call once the stream has ended. */
  digest(): string {
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }
}

/** A pass-through that fails at its end, with the error `check` returns, when what passed does not check. */
class VerifyingStream extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  constructor(private readonly check: (sha256: string, bytes: number) => StoreError | undefined) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    done(this.check(this.hash.digest('hex'), this.bytes) ?? null);
  }
}

export async function sha256OfFile(file: string): Promise<{ sha256: string; size: number }> {
  const hashing = new HashingStream();
  await pipeline(createReadStream(file), hashing, new PassThrough().resume());
  return { sha256: hashing.digest(), size: hashing.bytes };
}

/** A temporary file name beside `file`, for a write that is renamed into place when whole. */
export function temporaryBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.baton-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Streams `source` into `file` by way of a temporary file beside it; `verify` (if given) runs once
 * the bytes are written and may refuse them, and then the file is not made. The parent directory
 * is made if need be.
 */
export async function streamToFile(source: Readable, file: string, verify?: () => void): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = temporaryBeside(file);
  try {
    await pipeline(source, createWriteStream(temporary, { flags: 'wx' }));
    verify?.();
    await rename(temporary, file);
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    throw err;
  }
}

/** The plain operations on keys a backend provides; keys reach it checked. */
export interface StoreBackend {
  readonly location: string;
  readonly description: string;
  /** Writes bytes; if `sha256` is given, the backend may have the service check them against it. */
  write(key: string, bytes: Buffer, sha256?: string): Promise<void>;
  /**
   * Writes a stream of `size` bytes (unknown if undefined). `verify` runs once every byte is read
   * from `body` and before the object is in place where the backend can manage that (a file's
   * rename); it may throw, and then no object is left under the key. `sha256`, when known, is
   * what the bytes should hash to, for a backend that can have the service check it.
   */
  writeStream(key: string, body: Readable, size: number | undefined, verify?: () => void, sha256?: string): Promise<void>;
  /** Opens an object for reading; a missing one is a StoreError `missing`. */
  read(key: string): Promise<{ stream: Readable; size: number | undefined }>;
  head(key: string): Promise<StoredObject | undefined>;
  list(prefix: string): AsyncIterable<StoredObject>;
  delete(key: string): Promise<void>;
  check(): Promise<void>;
}

/** A Store over a backend: the content-addressed operations, the same for every backend. */
export class BaseStore implements Store {
  constructor(protected readonly backend: StoreBackend) {}

  get location(): string {
    return this.backend.location;
  }

  get description(): string {
    return this.backend.description;
  }

  async put(key: string, body: Body): Promise<StoredObject> {
    checkKey(key);
    const bytes = toBuffer(body);
    await this.backend.write(key, bytes);
    return { key, size: bytes.length };
  }

  async putStream(key: string, body: Readable): Promise<StoredObject> {
    checkKey(key);
    const counting = new HashingStream();
    await this.backend.writeStream(key, through(body, counting), undefined);
    return { key, size: counting.bytes };
  }

  async putFile(key: string, file: string): Promise<StoredObject> {
    checkKey(key);
    const info = await statFile(file);
    const source = createReadStream(file);
    await this.backend.writeStream(key, source, info.size);
    const after = await statFile(file);
    if (after.size !== info.size) {
      await this.backend.delete(key).catch(() => undefined);
      throw new StoreError('changed', `${file} changed size while it was stored as ${key} in ${this.description}`, 'store it again once nothing writes to it');
    }
    return { key, size: info.size };
  }

  async get(key: string): Promise<Buffer> {
    checkKey(key);
    const { stream } = await this.backend.read(key);
    return collect(stream);
  }

  async getStream(key: string): Promise<Readable> {
    checkKey(key);
    return (await this.backend.read(key)).stream;
  }

  async getFile(key: string, file: string): Promise<StoredObject> {
    checkKey(key);
    const { stream, size } = await this.backend.read(key);
    const counting = new HashingStream();
    await streamToFile(through(stream, counting), file, () => {
      if (size !== undefined && counting.bytes !== size) {
        throw new StoreError('failed', `${key} in ${this.description} ended after ${counting.bytes} of its ${size} bytes`, 'try again; if it recurs, check the network and the service');
      }
    });
    return { key, size: counting.bytes };
  }

  head(key: string): Promise<StoredObject | undefined> {
    checkKey(key);
    return this.backend.head(key);
  }

  list(prefix = ''): AsyncIterable<StoredObject> {
    checkPrefix(prefix);
    return this.backend.list(prefix);
  }

  delete(key: string): Promise<void> {
    checkKey(key);
    return this.backend.delete(key);
  }

  async putContent(body: Body): Promise<ContentRef> {
    const bytes = toBuffer(body);
    const sha256 = sha256Hex(bytes);
    const key = contentKey(sha256);
    const existing = await this.backend.head(key);
    if (existing?.size !== bytes.length) await this.backend.write(key, bytes, sha256);
    return { sha256, size: bytes.length, key };
  }

  async putContentFile(file: string): Promise<ContentRef> {
    const { sha256, size } = await sha256OfFile(file).catch((err: unknown) => {
      throw fileError(err, file);
    });
    const key = contentKey(sha256);
    const existing = await this.backend.head(key);
    if (existing?.size === size) return { sha256, size, key };
    const hashing = new HashingStream();
    const source = createReadStream(file);
    source.once('error', (err) => hashing.destroy(fileError(err, file)));
    through(source, hashing);
    let refused: StoreError | undefined;
    const verify = (): void => {
      if (hashing.digest() !== sha256 || hashing.bytes !== size) {
        refused = new StoreError('changed', `${file} changed while it was stored (sha256 ${sha256.slice(0, 12)}… when hashed, ${hashing.digest().slice(0, 12)}… when sent)`, 'store it again once nothing writes to it');
        throw refused;
      }
    };
    try {
      await this.backend.writeStream(key, hashing, size, verify, sha256);
      verify(); // for a backend that could not call it before the object was in place
    } catch (err) {
      // An object the backend could not keep from appearing under the key is taken away again.
      if (err === refused) await this.backend.delete(key).catch(() => undefined);
      throw err;
    }
    return { sha256, size, key };
  }

  async hasContent(sha256: string): Promise<ContentRef | undefined> {
    const key = contentKey(sha256);
    const info = await this.backend.head(key);
    return info ? { sha256, size: info.size, key } : undefined;
  }

  async getContent(sha256: string): Promise<Buffer> {
    const key = contentKey(sha256);
    const bytes = await collect((await this.backend.read(key)).stream);
    const problem = this.hashProblem(key, sha256, sha256Hex(bytes), bytes.length);
    if (problem) throw problem;
    return bytes;
  }

  async getContentStream(sha256: string): Promise<Readable> {
    const key = contentKey(sha256);
    const { stream } = await this.backend.read(key);
    const verifying = new VerifyingStream((actual, bytes) => this.hashProblem(key, sha256, actual, bytes));
    return through(stream, verifying);
  }

  async getContentFile(sha256: string, file: string): Promise<ContentRef> {
    const key = contentKey(sha256);
    const { stream } = await this.backend.read(key);
    const hashing = new HashingStream();
    await streamToFile(through(stream, hashing), file, () => {
      const problem = this.hashProblem(key, sha256, hashing.digest(), hashing.bytes);
      if (problem) throw problem;
    });
    return { sha256, size: hashing.bytes, key };
  }

  check(): Promise<void> {
    return this.backend.check();
  }

  private hashProblem(key: string, expected: string, actual: string, bytes: number): StoreError | undefined {
    if (actual === expected) return undefined;
    return new StoreError(
      'wrong-hash',
      `${key} in ${this.description} has sha256 ${actual.slice(0, 12)}… (${bytes} bytes), not ${expected.slice(0, 12)}…: it was changed or damaged after it was stored, and is refused`,
      'delete it and store the content again from a good copy (or run the phase that made it again)',
      { key },
    );
  }
}

/**
 * `source` piped into `transform`, which is returned: an error in either destroys both (so an
 * abandoned read closes the connection or file behind it), and the reader sees it from `transform`.
 */
export function through<T extends Transform>(source: Readable, transform: T): T {
  pipelineWithCallback(source, transform, () => undefined);
  return transform;
}

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function statFile(file: string): Promise<{ size: number }> {
  const info = await stat(file).catch((err: unknown) => {
    throw fileError(err, file);
  });
  if (!info.isFile()) throw new StoreError('local-file', `${file} is not a file`, 'store a regular file');
  return info;
}

/** A local file that cannot be read, as a StoreError naming it (the store itself is not at fault). */
export function fileError(err: unknown, file: string): Error {
  if (err instanceof StoreError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new StoreError('local-file', `${file} does not exist`, 'check the path', { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new StoreError('local-file', `${file} cannot be read by this user`, 'fix its permissions', { cause: err });
  return new StoreError('local-file', `${file} cannot be read (${(err as Error).message})`, 'check the file', { cause: err });
}

/** Readable.from for a buffer, in one chunk. */
export function bufferStream(bytes: Buffer): Readable {
  return Readable.from([bytes], { objectMode: false });
}
