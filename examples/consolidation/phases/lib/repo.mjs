// Reading the repository under consolidation: walking it, the inventory CSV that phase 0 writes
// and later phases read, and how a relative import maps to files.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fail } from './handoff.mjs';

export const INVENTORY_COLUMNS = ['path', 'bytes', 'lines', 'ext'];
export const SCRIPT_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];

/** Repo-relative paths (with `/`) of the regular files under `root`, sorted; symlinks are not followed. */
export function walkRepo(root, { skipDirNames, skipAbsolute = [] }) {
  const skipNames = new Set(skipDirNames);
  const skipReal = new Set(skipAbsolute.map(realPathOrSelf));
  const files = [];
  const pending = [''];
  while (pending.length > 0) {
    const rel = pending.pop();
    const abs = path.join(root, rel);
    if (skipReal.has(realPathOrSelf(abs))) continue;
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      continue; // unreadable, or removed while we walk
    }
    for (const entry of entries) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!skipNames.has(entry.name)) pending.push(childRel);
      } else if (entry.isFile()) {
        files.push(childRel);
      }
    }
  }
  return files.sort();
}

export function extensionOf(rel) {
  return path.posix.extname(rel).toLowerCase();
}

export function isBinary(buffer) {
  return buffer.subarray(0, 8000).includes(0);
}

export function countLines(buffer) {
  if (buffer.length === 0) return 0;
  let lines = 0;
  for (const byte of buffer) if (byte === 10) lines += 1;
  return buffer[buffer.length - 1] === 10 ? lines : lines + 1;
}

/** A file's text, or null when it is gone (the repo may change while a run goes on). */
export function readRepoText(repo, rel) {
  try {
    return readFileSync(path.join(repo, rel), 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT' || err.code === 'EISDIR') return null;
    throw err;
  }
}

/** One hash over the current content of `files`, to tell later whether any of them changed. */
export function fingerprintFiles(repo, files) {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) {
    hash.update(file).update('\0').update(readRepoText(repo, file) ?? '<missing>').update('\0');
  }
  return hash.digest('hex');
}

export function toCsv(header, rows) {
  const field = (value) => {
    const text = String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\n') + '\n';
}

export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"') {
      quoted = true;
    } else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += char;
    }
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** Phase 0's inventory, from the package (phase 0 must be a dependency or, transitively, an ancestor): [{ path, bytes, lines, ext }]. */
export function readInventory(phase) {
  const [header, ...rows] = parseCsv(phase.readText(0, 'inventory'));
  if (header?.join(',') !== INVENTORY_COLUMNS.join(',')) {
    fail(`the inventory artifact has columns "${header?.join(',')}", expected "${INVENTORY_COLUMNS.join(',')}"`);
  }
  return rows.map(([rel, bytes, lines, ext]) => ({ path: rel, bytes: Number(bytes), lines: Number(lines), ext }));
}

export function isRelativeSpecifier(specifier) {
  return specifier === '.' || specifier === '..' || specifier.startsWith('./') || specifier.startsWith('../');
}

const COMPILED_TO_SOURCE = { '.js': ['.ts', '.tsx'], '.jsx': ['.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'] };
const RESOLVABLE_EXTENSIONS = [...SCRIPT_EXTENSIONS, '.json'];

/**
 * Repo-relative files a relative import may mean, most likely first: the path itself, the
 * TypeScript source of a `.js` specifier (ESM style), the path plus an extension, an index file.
 * A path that leaves the repository starts with `../`.
 */
export function importCandidates(fromRel, specifier) {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), specifier));
  const ext = path.posix.extname(base);
  const stem = base.slice(0, base.length - ext.length);
  return [
    base,
    ...(COMPILED_TO_SOURCE[ext] ?? []).map((sourceExt) => stem + sourceExt),
    ...RESOLVABLE_EXTENSIONS.map((candidateExt) => base + candidateExt),
    ...RESOLVABLE_EXTENSIONS.map((candidateExt) => `${base}/index${candidateExt}`),
  ];
}

export function isTestFile(rel, patterns) {
  const padded = `/${rel}`;
  return SCRIPT_EXTENSIONS.includes(extensionOf(rel)) && patterns.some((pattern) => padded.includes(pattern));
}

function realPathOrSelf(abs) {
  try {
    return realpathSync(abs);
  } catch {
    return path.resolve(abs);
  }
}
