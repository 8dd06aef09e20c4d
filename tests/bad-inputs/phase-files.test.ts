/**
 * The bad-input catalogue, part 5: what a phase writes, at the level of the runner (no Temporal).
 * Logs keep their cap with a rolling tail and read their tail from the end; outputs of many keys are
 * stored as one value; outputs over a limit, or not UTF-8, are refused before anything is stored
 * or committed. The same cases against a live run are in phase-leftovers.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CappedLog, logCapFromEnv, readTail } from '../../src/runner/capped-log.js';
import { GROUP_KEY, hydrateContext, planContext } from '../../src/runner/context-store.js';
import { readOutputText } from '../../src/runner/output-limits.js';
import { collectOutput } from '../../src/runner/phase-output.js';
import { firstInvalidUtf8 } from '../../src/runner/utf8.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'baton-phase-files-'));

/** `count` chunks of `size` bytes, each filled with one letter of the alphabet in turn. */
function chunks(count: number, size: number): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < count; i++) yield Buffer.alloc(size, 97 + (i % 26));
  })());
}

describe('a log keeps its cap: the head as written, the last bytes rolling, a line for what was dropped', () => {
  it('16 MiB through a 64 KiB cap: 32 KiB of head, the marker, the last 32 KiB, and no segment files left', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'x.stderr.log');
    const log = new CappedLog(file, 64 * 1024);
    await pipeline(chunks(256, 64 * 1024), log);
    const text = await readFile(file, 'latin1');
    const marker = `\n[baton: ${(16 * 1024 * 1024 - 64 * 1024).toLocaleString('en-US')} bytes dropped here: this log keeps its first 32 KiB and its last 32 KiB (BATON_LOG_MAX_BYTES is 64 KiB)]\n`;
    expect(text).toBe('a'.repeat(32 * 1024) + marker + String.fromCharCode(97 + (255 % 26)).repeat(32 * 1024));
    expect(await readdir(dir)).toEqual(['x.stderr.log']);
    expect(log.total).toBe(16 * 1024 * 1024);
  });

  it('what fits the cap is kept whole, with no marker', async () => {
    const file = path.join(await tmp(), 'x.log');
    await pipeline(chunks(3, 1000), new CappedLog(file, 4096));
    expect(await readFile(file, 'latin1')).toBe('a'.repeat(1000) + 'b'.repeat(1000) + 'c'.repeat(1000));
  });

  it('reads the tail from the end of a large file, at a character boundary', async () => {
    const file = path.join(await tmp(), 'big.log');
    await writeFile(file, Buffer.concat([Buffer.alloc(8 * 1024 * 1024, 'y'), Buffer.from('é'.repeat(1000) + '\nthe real error')]));
    const tail = await readTail(file, 2001);
    expect(tail.startsWith('…é')).toBe(true);
    expect(tail.endsWith('é\nthe real error')).toBe(true);
    expect(await readTail(path.join(path.dirname(file), 'missing.log'), 10)).toBe('');
  });

  it('takes BATON_LOG_MAX_BYTES in bytes or with a unit, and refuses what it cannot use', () => {
    expect(logCapFromEnv({})).toBe(64 * 1024 * 1024);
    expect(logCapFromEnv({ BATON_LOG_MAX_BYTES: '1G' })).toBe(1024 ** 3);
    expect(logCapFromEnv({ BATON_LOG_MAX_BYTES: '65536' })).toBe(65536);
    expect(() => logCapFromEnv({ BATON_LOG_MAX_BYTES: '12' })).toThrow('BATON_LOG_MAX_BYTES must be a size of at least 4096 bytes (such as 65536, 64M or 1G), got "12"');
    expect(() => logCapFromEnv({ BATON_LOG_MAX_BYTES: 'lots' })).toThrow('got "lots"');
  });
});

describe('BATON_OUTPUT is read as UTF-8', () => {
  it('refuses bytes that are not UTF-8 with their offset, drops a BOM, refuses a file over 64 MiB unread', async () => {
    const dir = await tmp();
    const latin1 = path.join(dir, 'latin1.json');
    await writeFile(latin1, Buffer.concat([Buffer.from('{"context": {"w": "caf'), Buffer.from([0xe9]), Buffer.from('"}}')]));
    await expect(readOutputText(latin1, 'phase 1 wrote x')).rejects.toThrow('phase 1 wrote x, which is not UTF-8: byte 0xe9 at offset 22 (line 1) does not begin a valid UTF-8 character');
    const bom = path.join(dir, 'bom.json');
    await writeFile(bom, '\ufeff{"context": {"w": "café"}}');
    expect(await readOutputText(bom, 'x')).toBe('{"context": {"w": "café"}}');
    expect(await readOutputText(path.join(dir, 'none.json'), 'x')).toBeNull();
    const huge = path.join(dir, 'huge.json');
    await writeFile(huge, '');
    await (await import('node:fs/promises')).truncate(huge, 64 * 1024 * 1024 + 1);
    await expect(readOutputText(huge, 'phase 1 wrote x')).rejects.toThrow('phase 1 wrote x, which is 67,108,865 bytes, over the 64 MiB an output file may be');
  });

  it('finds where UTF-8 breaks: overlong forms, surrogates, past U+10FFFF, cut short', () => {
    expect(firstInvalidUtf8(Buffer.from('ok é ✓ 😀'))).toBe(Buffer.byteLength('ok é ✓ 😀'));
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80]))).toBe(1); // overlong NUL
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80]))).toBe(2); // a surrogate
    expect(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // past U+10FFFF
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xe2, 0x9c]))).toBe(1); // cut short
    expect(firstInvalidUtf8(Buffer.from([0x80]))).toBe(0); // a continuation byte alone
  });
});

describe('an output of many keys goes by reference as one value', () => {
  it('30,000 small keys: about a kilobyte inline, one reference, every key back when read', async () => {
    const dir = await tmp();
    const context: Record<string, unknown> = {};
    for (let i = 0; i < 30_000; i++) context[`k${i}`] = i;
    context.__proto__name = 'fine';
    Object.defineProperty(context, '__proto__', { value: { not: 'a prototype' }, enumerable: true });
    const planned = planContext(context);
    expect(planned.pending).toHaveLength(1);
    expect(Buffer.byteLength(JSON.stringify(planned.context))).toBeLessThan(1024 + 256); // the inline budget and one reference
    expect(planned.context[GROUP_KEY]).toMatchObject({ $baton_ref: { path: expect.stringMatching(/^context-store\//) } });

    const report = await collectOutput(dir, { context, artifacts: {} }, 'phase many', []);
    expect(await readdir(path.join(dir, 'context-store'), { recursive: true })).toHaveLength(2); // one directory, one file
    const back = await hydrateContext(dir, report.context, "phase many's");
    expect(Object.keys(back)).toHaveLength(30_002);
    expect(back.k29999).toBe(29_999);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ not: 'a prototype' });
  });

  it('a few large values still go one by one, and small outputs stay inline', () => {
    const few = planContext({ a: 'x'.repeat(2000), b: 'y'.repeat(2000), n: 1 });
    expect(Object.keys(few.context).sort()).toEqual(['a', 'b', 'n']);
    expect(few.pending).toHaveLength(2);
    expect(planContext({ n: 1, s: 'short' })).toEqual({ context: { n: 1, s: 'short' }, pending: [] });
  });

  it('a key with a long name never stays in the context itself', () => {
    const long = 'k'.repeat(5000);
    const planned = planContext({ [long]: 1, n: 2 });
    expect(Object.keys(planned.context).sort()).toEqual([GROUP_KEY, 'n']);
  });
});

describe('an output over a limit is refused before anything is stored or committed', () => {
  const refusals: Array<[string, () => Promise<{ dir: string; output: { context: Record<string, unknown>; artifacts: Record<string, string> } }>, string]> = [
    [
      'over 100,000 keys',
      async () => ({ dir: await tmp(), output: { context: Object.fromEntries(Array.from({ length: 100_001 }, (_, i) => [`k${i}`, 'x'.repeat(2000)])), artifacts: {} } }),
      'phase p reported 100,001 context keys, over the limit of 100,000: nest them under fewer keys, or write them to a file and report it as an artifact',
    ],
    ['Baton\'s own key', async () => ({ dir: await tmp(), output: { context: { [GROUP_KEY]: 1, big: 'x'.repeat(5000) }, artifacts: {} } }), 'phase p reported a context key "$baton_keys", which is Baton\'s own'],
    [
      'over 1,000 artifacts',
      async () => ({ dir: await tmp(), output: { context: { big: 'x'.repeat(5000) }, artifacts: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`a${i}`, 'f.txt'])) } }),
      'phase p reported 1,001 artifacts, over the limit of 1,000',
    ],
    [
      'a report over 256 KiB (long artifact paths)',
      async () => {
        const dir = await tmp();
        const sub = path.join(dir, 'd'.repeat(200), 'e'.repeat(200));
        await (await import('node:fs/promises')).mkdir(sub, { recursive: true });
        await writeFile(path.join(sub, 'f.txt'), 'x');
        const rel = path.relative(dir, path.join(sub, 'f.txt'));
        return { dir, output: { context: { big: 'x'.repeat(5000) }, artifacts: Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`artifact-${i}`, rel])) } };
      },
      'over the limit of 256 KiB: report fewer or shorter artifact names and paths',
    ],
  ];
  for (const [what, make, message] of refusals) {
    it(what, async () => {
      const { dir, output } = await make();
      await expect(collectOutput(dir, output, 'phase p', [])).rejects.toMatchObject({ type: 'InvalidPhaseOutput', message: expect.stringContaining(message) });
      expect(existsSync(path.join(dir, 'context-store'))).toBe(false);
    });
  }

  it('a handler gets InvalidHandlerOutput for the same', async () => {
    const dir = await tmp();
    await expect(collectOutput(dir, { context: { [GROUP_KEY]: 1 }, artifacts: {} }, 'phase h', [], 'InvalidHandlerOutput')).rejects.toMatchObject({ type: 'InvalidHandlerOutput' });
  });

  it('a bad artifact leaves no stored values behind either', async () => {
    const dir = await tmp();
    await expect(collectOutput(dir, { context: { big: 'x'.repeat(5000) }, artifacts: { gone: 'missing.txt' } }, 'phase p', [])).rejects.toMatchObject({ type: 'InvalidArtifact' });
    expect(existsSync(path.join(dir, 'context-store'))).toBe(false);
    expect((await stat(dir)).isDirectory()).toBe(true);
  });
});
