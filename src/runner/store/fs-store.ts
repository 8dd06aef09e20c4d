/**
 * The filesystem store: a directory, each key a file under it (`runs/r1/x.json` is
 * `<dir>/runs/r1/x.json`). The embedded default: one machine, or machines that share the directory.
 * Every write goes to a temporary file under `<dir>/.baton-store/tmp/` and is renamed into place,
 * so a reader sees an object whole or not at all, and a crash leaves no half object under a key.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, opendir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StoreError } from './errors.js';
import { BaseStore, RESERVED_SEGMENT, type StoreBackend, type StoredObject } from './store.js';

export class FilesystemBackend implements StoreBackend {
  readonly location: string;
  readonly description: string;
  private readonly temporaryDir: string;

  constructor(directory: string) {
    if (!path.isAbsolute(directory)) throw new StoreError('invalid-location', `the store directory ${directory} is not absolute`, 'resolve it first (openStore does)');
    this.location = path.resolve(directory);
    this.description = `the store directory ${this.location}`;
    this.temporaryDir = path.join(this.location, RESERVED_SEGMENT, 'tmp');
  }

  private file(key: string): string {
    return path.join(this.location, ...key.split('/'));
  }

  private temporary(): string {
    return path.join(this.temporaryDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  async write(key: string, bytes: Buffer): Promise<void> {
    await this.commit(key, async (temporary) => {
      await writeFile(temporary, bytes, { flag: 'wx' });
    });
  }

  async writeStream(key: string, body: Readable, _size: number | undefined, verify?: () => void): Promise<void> {
    await this.commit(key, async (temporary) => {
      await pipeline(body, createWriteStream(temporary, { flags: 'wx' }));
      verify?.();
    });
  }

  /** Writes a temporary file with `fill`, then renames it to the key's file (making its directory). */
  private async commit(key: string, fill: (temporary: string) => Promise<void>): Promise<void> {
    const target = this.file(key);
    const temporary = this.temporary();
    try {
      await mkdir(this.temporaryDir, { recursive: true }).catch((err: unknown) => {
        throw this.problem(err, key, 'write');
      });
      await fill(temporary).catch((err: unknown) => {
        throw this.problem(err, key, 'write');
      });
      await mkdir(path.dirname(target), { recursive: true }).catch((err: unknown) => {
        throw this.problem(err, key, 'write');
      });
      await rename(temporary, target).catch((err: unknown) => {
        throw this.problem(err, key, 'write');
      });
    } catch (err) {
      await unlink(temporary).catch(() => undefined);
      throw err;
    }
  }

  async read(key: string): Promise<{ stream: Readable; size: number | undefined }> {
    const file = this.file(key);
    const handle = await open(file, 'r').catch((err: unknown) => {
      throw this.problem(err, key, 'read');
    });
    // The size comes from the open file the stream reads, so a write renamed over it meanwhile
    // cannot mix two objects.
    const info = await handle.stat().catch(async (err: unknown) => {
      await handle.close();
      throw this.problem(err, key, 'read');
    });
    if (!info.isFile()) {
      await handle.close();
      throw this.missing(key, `${file} is a directory, not an object`);
    }
    return { stream: handle.createReadStream(), size: info.size };
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const info = await stat(this.file(key)).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw this.problem(err, key, 'read');
    });
    return info?.isFile() ? { key, size: info.size, modified: info.mtime } : undefined;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    // S3's prefixes are string prefixes: `runs/a` matches `runs/a/x` and `runs/ab`. So walk the
    // deepest directory the prefix names whole, and filter by the string.
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    const found: StoredObject[] = [];
    await this.walk(base, prefix, found);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  private async walk(dirKey: string, prefix: string, found: StoredObject[]): Promise<void> {
    const dir = dirKey === '' ? this.location : this.file(dirKey);
    let handle;
    try {
      handle = await opendir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.problem(err, dirKey, 'list', `the objects under ${dirKey || 'the top'} of`);
    }
    for await (const entry of handle) {
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (dirKey === '' && entry.name === RESERVED_SEGMENT) continue;
      if (entry.isDirectory()) {
        // Only directories that can hold keys with the prefix.
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await this.walk(key, prefix, found);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const info = await stat(path.join(dir, entry.name)).catch(() => undefined);
        if (info) found.push({ key, size: info.size, modified: info.mtime });
      }
    }
  }

  async delete(key: string): Promise<void> {
    await unlink(this.file(key)).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.problem(err, key, 'delete');
    });
  }

  async check(): Promise<void> {
    const probe = `${RESERVED_SEGMENT}/probe-${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    const file = path.join(this.location, ...probe.split('/'));
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, 'baton store check');
      if ((await readFile(file, 'utf8')) !== 'baton store check') {
        throw new StoreError('failed', `${this.description} gave back other bytes than were written to it`, 'check the filesystem (a full or failing disk?)');
      }
    } catch (err) {
      throw this.problem(err, probe, 'write');
    } finally {
      await rm(file, { force: true }).catch(() => undefined);
    }
  }

  private missing(key: string, detail?: string): StoreError {
    return new StoreError(
      'missing',
      `${key} is not in ${this.description}${detail ? ` (${detail})` : ''}`,
      'it was never stored here, or was removed: check BATON_STORE names the same store on every machine, or store it again',
      { key },
    );
  }

  /** A filesystem error as a StoreError that names the store, the key and the fix. */
  private problem(err: unknown, key: string, doing: 'read' | 'write' | 'list' | 'delete', subject = `${key} in`): Error {
    if (err instanceof StoreError) return err;
    const e = err as NodeJS.ErrnoException;
    const where = e.path ?? this.location;
    if (e.code === 'ENOTDIR' && doing === 'read') return this.missing(key);
    switch (e.code) {
      case 'ENOENT':
        if (doing === 'read') return this.missing(key);
        return new StoreError('failed', `cannot ${doing} ${subject} ${this.description}: ${where} vanished while it was in use`, 'make sure nothing removes the store directory while Baton uses it', { key, cause: err });
      case 'EACCES':
      case 'EPERM':
        return new StoreError('denied', `this user (uid ${process.getuid?.() ?? '?'}) may not ${doing} ${subject} ${this.description} (${e.code} on ${where})`, `give it access (chown or chmod ${this.location}), or point BATON_STORE at a directory it may write`, { key, cause: err });
      case 'EROFS':
        return new StoreError('denied', `cannot ${doing} ${subject} ${this.description}: it is on a read-only filesystem`, 'point BATON_STORE at a writable directory', { key, cause: err });
      case 'ENOTDIR':
      case 'EEXIST':
      case 'EISDIR':
        return new StoreError('conflict', `cannot ${doing} ${subject} ${this.description}: ${where} is in the way (a file where a directory is needed, or the reverse)`, 'a key cannot name both an object and a folder of objects on a filesystem: choose keys that do not nest, or remove what is in the way', { key, cause: err });
      case 'ENOSPC':
      case 'EDQUOT':
        return new StoreError('failed', `cannot ${doing} ${subject} ${this.description}: no space left on its filesystem`, 'free space or raise the quota there, or point BATON_STORE at a larger disk', { key, cause: err });
      default:
        return new StoreError('failed', `cannot ${doing} ${subject} ${this.description}: ${e.message}`, 'check the directory and its filesystem', { key, cause: err });
    }
  }
}

/** A Store over a directory (absolute; made when first written). */
export class FilesystemStore extends BaseStore {
  constructor(directory: string) {
    super(new FilesystemBackend(directory));
  }
}
