/**
 * Self-contained bundles for machines with neither the run's workdir nor its store (issue 16): a
 * phase bundle carries a package and every file it references; a result bundle carries a result and
 * every file its output references. Both are gzipped tar files (node-tar) of one folder:
 *
 *   package.json | result.json   the package, or the sealed result
 *   workdir/<path>               each referenced file, at its path relative to the run's workdir
 *   README.md                    (phase bundles) what to do with it
 *
 * Reading one takes regular files and folders only (no links, no absolute or `..` paths), and every
 * file is checked against the hash its package or result records before anything uses it.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { AgentResultSchema, type AgentResult } from '../core/handoff/result.js';
import type { PhaseContext } from '../core/handoff/schema.js';
import { zodProblems } from '../core/plan/problems.js';
import { confinedPath } from './paths.js';
import { sha256OfFile } from './store/store.js';
import { contextFiles } from './store/sync.js';

export const BUNDLE_WORKDIR = 'workdir';
export const BUNDLE_PACKAGE = 'package.json';
export const BUNDLE_RESULT = 'result.json';

/** A file to put in a bundle: where it goes under workdir/, and where its bytes come from. */
export interface BundleFile {
  path: string;
  sha256: string;
  size: number;
  /** Writes the file's bytes to `target` (a local copy, or the store's). */
  fetch(target: string): Promise<void>;
}

/** A file name that asks for a bundle rather than a JSON file: `.tar.gz` or `.tgz`. */
export function isBundleName(file: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(file);
}

/**
 * What a bundle may unpack to: a bound on a file that anyone can hand to `baton submit` or
 * `execute-phase`, so that one cannot fill the disk (its files are at most what their outputs
 * record, and an output holds at most 1,000 artifacts).
 */
export const BUNDLE_LIMITS = { entries: 100_000, bytes: 64 * 1024 ** 3 };

export class BundleError extends Error {
  override name = 'BundleError';
}

/**
 * Writes a bundle to `out`: `document` under its name, `files` under workdir/ (each fetched, then
 * checked against its hash), and any `extra` text files at the top.
 */
export async function writeBundle(out: string, document: { name: string; text: string }, files: BundleFile[], extra: Record<string, string> = {}): Promise<void> {
  const staging = await mkdtemp(path.join(os.tmpdir(), 'baton-bundle-'));
  try {
    const workdir = path.join(staging, BUNDLE_WORKDIR);
    await mkdir(workdir);
    await writeFile(path.join(staging, document.name), document.text);
    for (const [name, text] of Object.entries(extra)) await writeFile(path.join(staging, name), text);
    for (const file of dedupe(files)) {
      const target = confinedPath(workdir, file.path);
      await mkdir(path.dirname(target), { recursive: true });
      await file.fetch(target);
      const got = await sha256OfFile(target);
      if (got.sha256 !== file.sha256 || got.size !== file.size) {
        throw new BundleError(`${file.path} is not as recorded (sha256 ${got.sha256.slice(0, 12)}…, expected ${file.sha256.slice(0, 12)}…), so it was not bundled; re-run the phase that produced it`);
      }
    }
    await mkdir(path.dirname(path.resolve(out)), { recursive: true });
    await tar.create({ gzip: true, file: out, cwd: staging, portable: true }, await topLevel(staging));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function dedupe(files: BundleFile[]): BundleFile[] {
  const seen = new Map<string, BundleFile>();
  for (const f of files) {
    const other = seen.get(f.path);
    if (other && other.sha256 !== f.sha256) throw new BundleError(`two inputs name ${f.path} with different contents; a bundle holds one file per path`);
    seen.set(f.path, f);
  }
  return [...seen.values()];
}

async function topLevel(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/**
 * Unpacks a bundle into a new folder (`prefix` and a random suffix; by default a temporary one),
 * taking regular files and folders only; returns that folder (the caller removes it).
 */
export async function unpackBundle(file: string, prefix = path.join(os.tmpdir(), 'baton-unbundle-')): Promise<string> {
  const dir = await mkdtemp(prefix);
  const refused: string[] = [];
  let entries = 0;
  let bytes = 0;
  let over: string | undefined;
  try {
    await tar.extract({
      file,
      cwd: dir,
      strict: true,
      preservePaths: false,
      filter: (p, entry) => {
        const type = 'type' in entry ? entry.type : undefined;
        const ok = type === 'File' || type === 'Directory' || type === 'OldFile';
        if (!ok) refused.push(`${p} (${type ?? 'unknown'})`);
        entries += 1;
        bytes += 'size' in entry && typeof entry.size === 'number' ? entry.size : 0;
        if (entries > BUNDLE_LIMITS.entries || bytes > BUNDLE_LIMITS.bytes) over ??= `more than ${BUNDLE_LIMITS.entries} entries or ${BUNDLE_LIMITS.bytes} bytes`;
        return ok && over === undefined;
      },
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new BundleError(`${file} is not a bundle Baton can read (${(err as Error).message}); pass the .tar.gz that \`baton handoff bundle\` or \`baton execute-phase --out result.tar.gz\` wrote`);
  }
  if (refused.length > 0) {
    await rm(dir, { recursive: true, force: true });
    throw new BundleError(`${file} holds entries that are not plain files (${refused.slice(0, 5).join(', ')}); a bundle holds only files and folders`);
  }
  if (over) {
    await rm(dir, { recursive: true, force: true });
    throw new BundleError(`${file} unpacks to ${over}, more than a bundle may hold; bundle one phase's inputs or result, as \`baton handoff bundle\` and \`execute-phase --out result.tar.gz\` do`);
  }
  return dir;
}

/** Checks every file `context` references in an unpacked bundle's workdir/ against its hash; returns the problems. */
export async function bundleFileProblems(dir: string, context: PhaseContext): Promise<string[]> {
  const workdir = path.join(dir, BUNDLE_WORKDIR);
  await mkdir(workdir, { recursive: true });
  const problems: string[] = [];
  for (const ref of contextFiles(context)) {
    let file: string;
    try {
      file = confinedPath(workdir, ref.path);
    } catch (err) {
      problems.push(`${ref.path}: ${(err as Error).message}`);
      continue;
    }
    const got = await sha256OfFile(file).catch(() => undefined);
    if (!got) problems.push(`${ref.path} is not in the bundle`);
    else if (got.sha256 !== ref.sha256 || got.size !== ref.size) problems.push(`${ref.path} in the bundle has sha256 ${got.sha256.slice(0, 12)}…, not ${ref.sha256.slice(0, 12)}… as the result records`);
  }
  return problems;
}

/** Writes a result bundle: the result, and every file its output references, from `workdir`. */
export async function writeResultBundle(out: string, result: AgentResult, workdir: string): Promise<void> {
  const files: BundleFile[] = result.output
    ? contextFiles(result.output).map((f) => ({ ...f, fetch: (target: string) => copyFile(confinedPath(workdir, f.path), target) }))
    : [];
  await writeBundle(out, { name: BUNDLE_RESULT, text: `${JSON.stringify(result, null, 2)}\n` }, files);
}

/** An unpacked result bundle: the result (parsed), and the folder it was unpacked in (the caller removes it). */
export async function readResultBundle(file: string): Promise<{ result: AgentResult; dir: string }> {
  const dir = await unpackBundle(file);
  try {
    const text = await readFile(path.join(dir, BUNDLE_RESULT), 'utf8').catch(() => {
      throw new BundleError(`${file} has no ${BUNDLE_RESULT}; it is not a result bundle (a phase bundle goes to \`baton execute-phase\`, not \`baton submit\`)`);
    });
    const parsed = AgentResultSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new BundleError(`the ${BUNDLE_RESULT} in ${file} is not a result: ${zodProblems(parsed.error).join('; ')}`);
    if (parsed.data.output) {
      const problems = await bundleFileProblems(dir, parsed.data.output);
      if (problems.length > 0) throw new BundleError(`${file} does not carry the result's files as recorded: ${problems.join('; ')}`);
    }
    return { result: parsed.data, dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A phase bundle, unpacked beside it (`phase.tar.gz` into `phase-<random>/`), where the agent's
 * work stays after the run: its package file and its workdir/. The package is checked by whoever
 * runs it, as any package is.
 */
export async function unpackPhaseBundle(file: string): Promise<{ dir: string; packageFile: string; workdir: string }> {
  const prefix = path.join(path.dirname(path.resolve(file)), `${path.basename(file).replace(/\.(tar\.gz|tgz)$/i, '')}-`);
  const dir = await unpackBundle(file, prefix);
  const packageFile = path.join(dir, BUNDLE_PACKAGE);
  if (!(await readFile(packageFile).then(() => true, () => false))) {
    await rm(dir, { recursive: true, force: true });
    throw new BundleError(`${file} has no ${BUNDLE_PACKAGE}; it is not a phase bundle (a result bundle goes to \`baton submit\`)`);
  }
  return { dir, packageFile, workdir: bundleWorkdir(dir) };
}

/** The bundle's workdir/ folder, for a caller that stores or copies the files in it. */
export function bundleWorkdir(dir: string): string {
  return path.join(dir, BUNDLE_WORKDIR);
}
