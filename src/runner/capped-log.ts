/**
 * A command's log with a cap: the first half of the cap is kept as written, the last half as a
 * rolling tail, and what lies between is dropped, with a line saying how much. The command guardian
 * writes each of a command's streams through one, so a command that prints 2 GB leaves a log of
 * its cap (64 MiB by default), and nothing is ever held whole in memory.
 *
 * The tail rolls on disk, not in memory: past the head, bytes go to `<log>.tail`, which is rotated
 * to `<log>.tail.1` (replacing the one before) each time it reaches the tail's size. When the
 * stream ends, the last tail's worth of bytes of the two is copied after the head and they are
 * removed. While the command runs, a log is at most its cap plus one tail on disk.
 *
 * Loaded by the guardian: node builtins only.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/** Each stream's log, by default: 64 MiB. */
export const DEFAULT_LOG_MAX_BYTES = 64 * 1024 * 1024;
/** The smallest cap BATON_LOG_MAX_BYTES may set: a tail must still hold an error message. */
export const MIN_LOG_MAX_BYTES = 4 * 1024;
/** The variable that sets the cap on a worker (or for `baton execute-phase`). */
export const LOG_MAX_ENV = 'BATON_LOG_MAX_BYTES';

const COPY_CHUNK = 1024 * 1024;

/**
 * The cap from BATON_LOG_MAX_BYTES (bytes, or with a K, M or G suffix: `64M`, `1G`), or the default.
 * Throws with what is wrong for a value it cannot take.
 */
export function logCapFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[LOG_MAX_ENV]?.trim();
  if (!raw) return DEFAULT_LOG_MAX_BYTES;
  const m = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(raw);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m?.[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  const bytes = m ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < MIN_LOG_MAX_BYTES) {
    throw new Error(`${LOG_MAX_ENV} must be a size of at least ${MIN_LOG_MAX_BYTES} bytes (such as 65536, 64M or 1G), got ${JSON.stringify(raw)}`);
  }
  return bytes;
}

/** 1 MiB, 512 KiB, 3 GiB; a size that is not a whole unit in bytes. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n.toLocaleString('en-US')} bytes`;
}

export class CappedLog extends Writable {
  readonly headBytes: number;
  readonly tailBytes: number;
  /** Every byte the stream carried, kept or not. */
  total = 0;
  private main: FileHandle | undefined;
  private headWritten = 0;
  private segment: FileHandle | undefined;
  private segmentBytes = 0;
  private rotated = false;

  constructor(
    readonly file: string,
    readonly maxBytes: number,
  ) {
    // A large buffer, and _writev: while one write is on its way to the disk, what the pipe brings
    // meanwhile goes in the next, as one.
    super({ highWaterMark: COPY_CHUNK });
    this.headBytes = Math.floor(maxBytes / 2);
    this.tailBytes = maxBytes - this.headBytes;
  }

  get segmentPath(): string {
    return `${this.file}.tail`;
  }

  get rotatedPath(): string {
    return `${this.file}.tail.1`;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    // Written fresh: a log holds one command's output (callers give each attempt files of its own).
    open(this.file, 'w').then(
      (fh) => {
        this.main = fh;
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.append(chunk).then(() => callback(), (err: Error) => callback(err));
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    this.append(Buffer.concat(chunks.map((c) => c.chunk))).then(() => callback(), (err: Error) => callback(err));
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.finish().then(() => callback(), (err: Error) => callback(err));
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    Promise.all([this.main?.close(), this.segment?.close()]).then(() => callback(err), () => callback(err));
  }

  private async append(chunk: Buffer): Promise<void> {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headWritten < this.headBytes) {
      const part = rest.subarray(0, this.headBytes - this.headWritten);
      await writeAll(this.main!, part);
      this.headWritten += part.length;
      rest = rest.subarray(part.length);
    }
    while (rest.length > 0) {
      if (this.segmentBytes === this.tailBytes) await this.rotate();
      this.segment ??= await open(this.segmentPath, 'w');
      const part = rest.subarray(0, this.tailBytes - this.segmentBytes);
      await writeAll(this.segment, part);
      this.segmentBytes += part.length;
      rest = rest.subarray(part.length);
    }
  }

  private async rotate(): Promise<void> {
    await this.segment?.close();
    this.segment = undefined;
    await rename(this.segmentPath, this.rotatedPath);
    this.segmentBytes = 0;
    this.rotated = true;
  }

  /** The head, the marker if anything was dropped, then the last tail's worth of bytes; the segments go. */
  private async finish(): Promise<void> {
    const main = this.main!;
    await this.segment?.close();
    this.segment = undefined;
    const rotatedBytes = this.rotated ? this.tailBytes : 0;
    const kept = Math.min(this.tailBytes, rotatedBytes + this.segmentBytes);
    const dropped = this.total - this.headWritten - kept;
    if (dropped > 0) {
      const marker = `\n[baton: ${dropped.toLocaleString('en-US')} bytes dropped here: this log keeps its first ${formatBytes(this.headBytes)} and its last ${formatBytes(this.tailBytes)} (${LOG_MAX_ENV} is ${formatBytes(this.maxBytes)})]\n`;
      await writeAll(main, Buffer.from(marker));
    }
    const fromRotated = kept - this.segmentBytes;
    if (fromRotated > 0) await copyRange(this.rotatedPath, rotatedBytes - fromRotated, fromRotated, main);
    if (this.segmentBytes > 0) await copyRange(this.segmentPath, Math.max(0, this.segmentBytes - kept), Math.min(kept, this.segmentBytes), main);
    await Promise.all([rm(this.segmentPath, { force: true }), rm(this.rotatedPath, { force: true })]);
    await main.close();
    this.main = undefined;
  }
}

async function writeAll(fh: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

/** Appends `length` bytes of `file` from `start` to `to`, a chunk at a time. */
async function copyRange(file: string, start: number, length: number, to: FileHandle): Promise<void> {
  const from = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(COPY_CHUNK, length));
    let done = 0;
    while (done < length) {
      const { bytesRead } = await from.read(buffer, 0, Math.min(buffer.length, length - done), start + done);
      if (bytesRead === 0) break;
      await writeAll(to, buffer.subarray(0, bytesRead));
      done += bytesRead;
    }
  } finally {
    await from.close();
  }
}

/**
 * The last `bytes` bytes of a file as text, read from its end (never the whole file), starting at
 * a character boundary; with `…` before it when the file holds more.
 */
export async function readTail(file: string, bytes: number): Promise<string> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buffer, 0, length, size - length);
    let start = 0;
    // Cut in the middle of a UTF-8 character: start at the next one.
    if (size > length) while (start < bytesRead && start < 4 && (buffer[start]! & 0xc0) === 0x80) start++;
    const text = buffer.subarray(start, bytesRead).toString('utf8');
    return size > length ? `…${text}` : text;
  } finally {
    await fh.close();
  }
}
