/**
 * The workdir as a cache of the store (runner/store/sync.ts) and bundles (runner/bundle.ts), on the
 * filesystem store: what one machine pushes another pulls, checked by hash; a stale cached copy is
 * replaced; bundles carry exactly the recorded files and refuse links and altered files.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhaseContext } from '../../src/core/handoff/schema.js';
import { BUNDLE_LIMITS, readResultBundle, unpackBundle, writeResultBundle } from '../../src/runner/bundle.js';
import { FilesystemStore } from '../../src/runner/store/fs-store.js';
import { cachedWorkdir, pullContext, pushContext, runFileKey, verifiedFile } from '../../src/runner/store/sync.js';
import { contextFileProblems } from '../../src/runner/validate-package.js';

let dir: string;
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'baton-sync-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function machine(name: string, files: Record<string, string> = {}): Promise<string> {
  const workdir = path.join(dir, name);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(workdir, rel)), { recursive: true });
    await writeFile(path.join(workdir, rel), text);
  }
  await mkdir(workdir, { recursive: true });
  return workdir;
}

function output(files: Record<string, string>): PhaseContext {
  const artifacts = Object.fromEntries(Object.entries(files).map(([rel, text]) => [path.basename(rel), { path: rel, sha256: sha(text), size: Buffer.byteLength(text) }]));
  return { context: {}, artifacts };
}

describe('the workdir as a cache of the store', () => {
  it('carries a file from one machine to another by its hash, and replaces a stale copy', async () => {
    const store = new FilesystemStore(path.join(dir, 'store-1'));
    const made = { 'data/a.txt': 'made on A' };
    const a = await machine('a1', made);
    await pushContext(store, a, output(made), "phase 1's");
    const b = await machine('b1', { 'data/a.txt': 'an old copy on B' });
    await pullContext(store, b, output(made), "phase 1's");
    expect(await readFile(path.join(b, 'data/a.txt'), 'utf8')).toBe('made on A');
  });

  it('says which files it verified, and leaves a path outside the workdir to the checks', async () => {
    const store = new FilesystemStore(path.join(dir, 'store-4'));
    const made = { 'data/v.txt': 'verified' };
    await pushContext(store, await machine('a4', made), output(made), "phase 1's");
    const b = await machine('b4');
    const escaping: PhaseContext = { context: {}, artifacts: { out: { path: '../outside.txt', sha256: sha('x'), size: 1 } } };
    const verified = await pullContext(store, b, { context: {}, artifacts: { ...output(made).artifacts, ...escaping.artifacts } }, "phase 1's");
    expect([...verified]).toEqual([verifiedFile({ path: 'data/v.txt', sha256: sha('verified') })]);
    expect(await contextFileProblems(b, escaping, ['output'], verified)).toEqual([expect.objectContaining({ path: 'output.artifacts.out', message: expect.stringMatching(/outside the workdir/) })]);
  });

  it('leaves a file the store lacks missing, for the checks after it to name', async () => {
    const store = new FilesystemStore(path.join(dir, 'store-2'));
    const b = await machine('b2');
    await pullContext(store, b, output({ 'data/never.txt': 'never stored' }), "phase 1's");
    await expect(readFile(path.join(b, 'data/never.txt'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses to store a file that is no longer what the phase reported', async () => {
    const store = new FilesystemStore(path.join(dir, 'store-3'));
    const a = await machine('a3', { 'x.txt': 'changed since' });
    await expect(pushContext(store, a, output({ 'x.txt': 'reported' }), "phase 1's")).rejects.toThrow(/changed while it was being stored/);
  });

  it('keys run files by their path under runs/ or archive/, and nothing else', () => {
    expect(runFileKey('/w', '/w/runs/r1/logs/phase_1.g1.a1.stderr.log')).toBe('runs/r1/logs/phase_1.g1.a1.stderr.log');
    expect(runFileKey('/w', '/w/archive/r1/segment-1.json')).toBe('archive/r1/segment-1.json');
    expect(() => runFileKey('/w', '/w/data/a.txt')).toThrow(/not one of a run's files/);
    expect(() => runFileKey('/w', '/elsewhere/runs/x')).toThrow(/not one of a run's files/);
  });

  it("gives each plan's workdir a cache directory of its own, the same on every call", () => {
    const pkg = (workdir: string, base: string | null) => ({ execution_instructions: { workdir, base_dir: base } }) as never;
    expect(cachedWorkdir(pkg('work', '/plans/etl'), '/cache')).toBe(cachedWorkdir(pkg('work', '/plans/etl'), '/cache'));
    expect(cachedWorkdir(pkg('work', '/plans/etl'), '/cache')).not.toBe(cachedWorkdir(pkg('work', '/plans/other'), '/cache'));
    expect(cachedWorkdir(pkg('work', '/plans/etl'), '/cache')).toMatch(/^\/cache\/workdirs\/etl-[0-9a-f]{12}$/);
  });
});

describe('result bundles', () => {
  const result = (out: PhaseContext) => ({
    schema_version: 1, execution_id: 'run-1', phase: 2, generation: 1, attempt: 1, package_hash: `sha256:${'0'.repeat(64)}`, outcome: 'completed' as const,
    output: out, error: null, content_hash: null, signature: null,
    provenance: { host: 'h', user: 'u', agent: 'a', mode: 'offline' as const, started_at: '2026-11-30T00:00:00.000Z', finished_at: '2026-11-30T00:00:01.000Z' },
  });

  it('carry the result and its files, checked when read', async () => {
    const files = { 'data/r.bin': 'result bytes' };
    const w = await machine('agent-1', files);
    const out = path.join(dir, 'r1.tar.gz');
    await writeResultBundle(out, result(output(files)) as never, w);
    const read = await readResultBundle(out);
    expect(read.result.phase).toBe(2);
    expect(await readFile(path.join(read.dir, 'workdir/data/r.bin'), 'utf8')).toBe('result bytes');
    await rm(read.dir, { recursive: true });
  });

  it('are refused when a file in them was altered after they were made', async () => {
    const files = { 'data/r.bin': 'result bytes' };
    const staging = await machine('tamper', {});
    await writeFile(path.join(staging, 'result.json'), JSON.stringify(result(output(files))));
    await mkdir(path.join(staging, 'workdir/data'), { recursive: true });
    await writeFile(path.join(staging, 'workdir/data/r.bin'), 'other bytes!');
    const out = path.join(dir, 'tampered.tar.gz');
    await tar.create({ gzip: true, file: out, cwd: staging }, ['result.json', 'workdir']);
    await expect(readResultBundle(out)).rejects.toThrow(/does not carry the result's files as recorded: data\/r\.bin in the bundle has sha256/);
  });

  it('are refused when they hold a link', async () => {
    const staging = await machine('linked', { 'result.json': '{}' });
    await symlink('/etc/passwd', path.join(staging, 'escape'));
    const out = path.join(dir, 'linked.tar.gz');
    await tar.create({ gzip: true, file: out, cwd: staging }, ['result.json', 'escape']);
    await expect(unpackBundle(out)).rejects.toThrow(/entries that are not plain files \(escape \(SymbolicLink\)\)/);
  });

  it('are refused when they unpack to more entries than a bundle may hold', async () => {
    const staging = await machine('many', { 'result.json': '{}' });
    for (let i = 0; i < 5; i++) await writeFile(path.join(staging, `f${i}`), 'x');
    const out = path.join(dir, 'many.tar.gz');
    await tar.create({ gzip: true, file: out, cwd: staging }, ['result.json', 'f0', 'f1', 'f2', 'f3', 'f4']);
    const saved = BUNDLE_LIMITS.entries;
    BUNDLE_LIMITS.entries = 3;
    try {
      await expect(unpackBundle(out)).rejects.toThrow(/unpacks to more than 3 entries or \d+ bytes, more than a bundle may hold/);
    } finally {
      BUNDLE_LIMITS.entries = saved;
    }
  });

  it('name the problem when the file is not a bundle', async () => {
    const out = path.join(dir, 'not.tar.gz');
    await writeFile(out, 'plain text');
    await expect(readResultBundle(out)).rejects.toThrow(/is not a bundle Baton can read/);
  });
});
