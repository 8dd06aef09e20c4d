/**
 * Writing a phase's package to disk, in its run's `handoffs/` (runs/<execution_id>/handoffs):
 * `phase_<id>.json` (the latest), every attempt's package under `attempts/` (none is ever
 * overwritten), and a runnable `execute_phase_<id>.sh` beside them, so the phase can be run by
 * hand on any machine.
 */
import { randomUUID } from 'node:crypto';
import { chmod, copyFile, link, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HandoffPackage } from '../core/handoff/schema.js';
import { ensureDir, forgetDir, unlessDoneRecently } from './ensure-dir.js';

export function handoffFileName(phaseKey: string): string {
  return `phase_${phaseKey}.json`;
}

export function attemptFileName(phaseKey: string, generation: number, attempt: number): string {
  return `phase_${phaseKey}.g${generation}.a${attempt}.json`;
}

/** Writes via a temporary file and rename, so a reader never sees half a file. */
export async function writeFileAtomic(file: string, data: string, mode?: number): Promise<void> {
  const tmp = `${file}.${randomUUID()}.tmp`; // unique: several writers may race for one file
  try {
    await writeFile(tmp, data, mode === undefined ? undefined : { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The directory went away after ensureDir made it (a cleaned-up workdir): make it again.
    forgetDir(path.dirname(file));
    await ensureDir(path.dirname(file));
    await writeFile(tmp, data, mode === undefined ? undefined : { mode });
  }
  await rename(tmp, file);
}

/** How many other names writeFileNew tries when a file's name is taken. */
const MAX_SUFFIX = 1000;

/**
 * Writes `file`, complete, under its own name or the next free one (`x.json`, `x.2.json`, …), and
 * never over a file that is there: returns the path written.
 */
export async function writeFileNew(file: string, data: string): Promise<string> {
  const ext = path.extname(file);
  const base = file.slice(0, file.length - ext.length);
  const tmp = `${file}.${randomUUID()}.tmp`;
  await writeFile(tmp, data);
  try {
    for (let n = 1; n <= MAX_SUFFIX; n++) {
      const target = n === 1 ? file : `${base}.${n}${ext}`;
      if (await placeNew(tmp, target, data)) return target;
    }
    throw new Error(`every name for ${file} is taken`);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** A hard link puts the whole file there at once, and fails rather than replace one; without links, an exclusive create. */
async function placeNew(tmp: string, target: string, data: string): Promise<boolean> {
  try {
    await link(tmp, target);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err;
  }
  try {
    const handle = await open(target, 'wx');
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Saves the package of one attempt, under `stem` (see attemptStem) in `attempts/`, and as the
 * phase's latest package; returns the latest package's path.
 */
export async function writeHandoffFiles(handoffsDir: string, pkg: HandoffPackage, stem?: string): Promise<string> {
  return (await writeHandoffFileSet(handoffsDir, pkg, stem)).file;
}

/** What writeHandoffFiles wrote: the latest package (`file`), and every file it wrote or keeps (for the store). */
export interface HandoffFileSet {
  file: string;
  files: string[];
}

export async function writeHandoffFileSet(handoffsDir: string, pkg: HandoffPackage, stem?: string): Promise<HandoffFileSet> {
  const key = String(pkg.to_phase);
  const name = stem ? `${stem}.json` : attemptFileName(key, pkg.generation, pkg.attempt);
  const text = `${JSON.stringify(pkg, null, 2)}\n`;
  const attempts = path.join(handoffsDir, 'attempts');
  await ensureDir(attempts);
  const attemptFile = await writeFileNew(path.join(attempts, name), text);
  // The latest package is a copy of this attempt's (a copy, not a link: the attempt's file must stay
  // as it was whatever is done to the latest one); one copy request costs less than a second write.
  const file = path.join(handoffsDir, handoffFileName(key));
  const tmp = `${file}.${randomUUID()}.tmp`;
  await copyFile(attemptFile, tmp);
  await rename(tmp, file);
  const script = path.join(handoffsDir, executeScriptName(key));
  // Its content depends only on the phase and this install, so it need not be rewritten per attempt.
  await unlessDoneRecently(`script:${script}`, async () => {
    await writeFileAtomic(script, executeScript(key), 0o755);
    await chmod(script, 0o755); // whatever the umask
  });
  return { file, files: [attemptFile, file, script] };
}

export function executeScriptName(phaseKey: string): string {
  return `execute_phase_${phaseKey}.sh`;
}

/**
 * Why the `execute_phase_<id>.sh` in `handoffsDir` is not the script Baton writes, or undefined when
 * it is (or there is none). A phase can write to its run's directory, so a script there may have
 * been rewritten to run something else: `baton handoff validate` and `baton doctor` say so.
 */
export async function executeScriptProblem(handoffsDir: string, phaseKey: string): Promise<string | undefined> {
  const file = path.join(handoffsDir, executeScriptName(phaseKey));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const expected = executeScript(phaseKey);
  if (text === expected) return undefined;
  const lines = text.split('\n');
  const want = expected.split('\n');
  const at = want.findIndex((line, i) => lines[i] !== line);
  const line = at === -1 ? want.length + 1 : at + 1;
  const cli = /^exec node (".*") execute-phase /.exec(lines[at] ?? '');
  const elsewhere = cli && want[at]?.startsWith('exec node ') && lines.length === want.length
    ? ` (it runs Baton from ${cli[1]}, not this install's ${JSON.stringify(CLI_PATH)}: fine only if that is where the worker that wrote it has Baton)`
    : '';
  return `${file} is not the script Baton writes: it differs from line ${line}${elsewhere}; do not run it: run \`baton execute-phase ${path.join(handoffsDir, handoffFileName(phaseKey))}\` instead (a worker writes the script again with the phase's next package)`;
}

/** The CLI beside this module, for machines where `baton` is not on PATH. */
const CLI_PATH = fileURLToPath(new URL('../cli/main.js', import.meta.url));

function executeScript(key: string): string {
  const run = `execute-phase "$(dirname "$0")/${handoffFileName(key)}" "$@"`;
  return [
    '#!/usr/bin/env sh',
    `# Runs phase ${key} of this run standalone, from the package beside this script:`,
    '# validates it (signature included), runs the phase here, prints the result.',
    '# Options: --out result.json, --workdir <dir>, --allow-unsigned (see baton execute-phase --help).',
    'set -eu',
    `if command -v baton >/dev/null 2>&1; then exec baton ${run}; fi`,
    `exec node ${JSON.stringify(CLI_PATH)} ${run}`,
    '',
  ].join('\n');
}
