/**
 * A phase's files as `baton ui` shows them: its latest package and its logs, read from the run's own
 * directory (`<workdir>/runs/<execution_id>/`) on this machine. Only names Baton makes are read: a log
 * is one of the phase's own (`phase_<id>.g<generation>…a<attempt>.<stream>.log`), found by listing the
 * directory, never a path taken from a request. With a store (the run's config's, or BATON_STORE),
 * what this machine lacks is read from there: workers store each attempt's logs when it ends, and
 * packages when they are made; a log being written on this machine is read here, live.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RunStatus } from '../core/api/status.js';
import { handoffFileName } from '../runner/handoff-files.js';
import { handoffsDirOf, runPaths } from '../runner/workdir.js';
import { configuredStore, runKey } from '../runner/store/sync.js';
import type { LogFile, LogsResponse, LogTail, PackageResponse } from './api.js';

/** Packages are small (outputs beyond 1 KiB travel by reference); anything larger is not one. */
const MAX_PACKAGE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_TAIL_BYTES = 64 * 1024;
const MAX_TAIL_BYTES = 1024 * 1024;

function workdirOf(status: RunStatus): string {
  return path.resolve(status.workdir);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The parts of a log's name (see attemptStem in src/runner/attempt-files.ts), or undefined for another file. */
export function parseLogName(key: string, name: string): Omit<LogFile, 'size' | 'modified'> & { suffix: number; dispatch: number } | undefined {
  const re = new RegExp(`^phase_${escapeRegExp(key)}\\.g(\\d+)(?:\\.d(\\d+))?(?:\\.run-[A-Za-z0-9-]+)?(\\.compensate)?\\.a(\\d+)(?:\\.(\\d+))?\\.(stdout|stderr)\\.log$`);
  const m = re.exec(name);
  if (!m) return undefined;
  return {
    name,
    generation: Number(m[1]),
    dispatch: Number(m[2] ?? 1),
    compensate: m[3] !== undefined,
    attempt: Number(m[4]),
    suffix: Number(m[5] ?? 1),
    stream: m[6] as 'stdout' | 'stderr',
  };
}

export async function phaseLogs(status: RunStatus, key: string): Promise<LogsResponse> {
  const dir = runPaths(workdirOf(status), status.execution_id).logs;
  const store = configuredStore(status.store);
  const found = new Map<string, { size: number; mtime: number }>();
  if (store) {
    for await (const o of store.list(`${logsKey(status)}/`)) found.set(o.key.slice(logsKey(status).length + 1), { size: o.size, mtime: o.modified?.getTime() ?? 0 });
  }
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!store) return { dir, files: [], problem: code === 'ENOENT' ? `no logs yet: ${dir} is not on this machine, or no attempt of the run has started` : `cannot read ${dir}: ${(err as Error).message}` };
  }
  // This machine's copy wins: an attempt running here is read live.
  for (const name of names) {
    const s = await stat(path.join(dir, name)).catch(() => undefined);
    if (s) found.set(name, { size: s.size, mtime: s.mtimeMs });
  }
  const files = [...found]
    .map(([name, f]) => ({ p: parseLogName(key, name), size: f.size, mtime: f.mtime }))
    .filter((f): f is { p: NonNullable<ReturnType<typeof parseLogName>>; size: number; mtime: number } => f.p !== undefined);
  // An attempt's streams stay together: they are ordered by the attempt's latest write (a stdout written a
  // millisecond after its stderr must not come before it).
  const attemptOf = (name: string): string => name.replace(/\.(stdout|stderr)\.log$/, '');
  const attemptTime = new Map<string, number>();
  for (const f of files) attemptTime.set(attemptOf(f.p.name), Math.max(attemptTime.get(attemptOf(f.p.name)) ?? 0, f.mtime));
  const timeOf = (f: (typeof files)[number]): number => attemptTime.get(attemptOf(f.p.name)) ?? 0;
  // Latest first: the highest generation, then the latest attempt, then the latest file; the phase's own before its rollback's.
  files.sort(
    (a, b) =>
      b.p.generation - a.p.generation ||
      Number(a.p.compensate) - Number(b.p.compensate) ||
      timeOf(b) - timeOf(a) ||
      b.p.dispatch - a.p.dispatch ||
      b.p.attempt - a.p.attempt ||
      b.p.suffix - a.p.suffix ||
      a.p.stream.localeCompare(b.p.stream),
  );
  return {
    dir: store ? `${dir} and ${store.description}` : dir,
    files: files.map(({ p, size, mtime }) => ({
      name: p.name,
      stream: p.stream,
      generation: p.generation,
      attempt: p.attempt,
      compensate: p.compensate,
      size,
      modified: new Date(mtime).toISOString(),
    })),
  };
}

/** The last `bytes` of one of the phase's logs, from the start of a line. Undefined when `name` is not one of its logs. */
export async function logTail(status: RunStatus, key: string, name: string, bytes = DEFAULT_TAIL_BYTES): Promise<LogTail | undefined> {
  if (!parseLogName(key, name) || name !== path.basename(name)) return undefined;
  const file = path.join(runPaths(workdirOf(status), status.execution_id).logs, name);
  const want = Math.max(1, Math.min(MAX_TAIL_BYTES, Math.floor(bytes)));
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return storedTail(status, name, want);
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - want);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    let text = buffer.toString('utf8');
    if (start > 0) {
      const newline = text.indexOf('\n');
      text = newline >= 0 ? text.slice(newline + 1) : text;
    }
    return { name, size, text, truncated: start > 0 };
  } finally {
    await handle.close();
  }
}

function logsKey(status: RunStatus): string {
  return runKey(status.execution_id, 'logs');
}

/** A log this machine does not have, from the store (logs are capped, so read whole). */
async function storedTail(status: RunStatus, name: string, want: number): Promise<LogTail | undefined> {
  const store = configuredStore(status.store);
  if (!store) return undefined;
  const bytes = await store.get(`${logsKey(status)}/${name}`).catch(() => undefined);
  if (!bytes) return undefined;
  const start = Math.max(0, bytes.length - want);
  let text = bytes.subarray(start).toString('utf8');
  if (start > 0) {
    const newline = text.indexOf('\n');
    text = newline >= 0 ? text.slice(newline + 1) : text;
  }
  return { name, size: bytes.length, text, truncated: start > 0 };
}

export async function phasePackage(status: RunStatus, key: string): Promise<PackageResponse> {
  const dir = handoffsDirOf(workdirOf(status), status.execution_id);
  const file = path.join(dir, handoffFileName(key));
  const script = path.join(dir, `execute_phase_${key}.sh`);
  const scriptPath = await stat(script).then(
    () => script,
    () => null,
  );
  try {
    const { size } = await stat(file);
    if (size > MAX_PACKAGE_BYTES) return { path: file, script_path: scriptPath, package: null, problem: `${file} is ${size} bytes, more than a package can be` };
    const pkg = JSON.parse(await readFile(file, 'utf8')) as { execution_id?: unknown };
    // <workdir>/handoffs (runs from before runs had directories of their own) is shared by a plan's runs.
    if (pkg.execution_id !== status.execution_id) return { path: file, script_path: null, package: null, problem: `no package for this run yet (${file} is run ${String(pkg.execution_id)}'s)` };
    return { path: file, script_path: scriptPath, package: pkg };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const stored = code === 'ENOENT' ? await storedPackage(status, key) : undefined;
    if (stored) return stored;
    const problem =
      code === 'ENOENT'
        ? status.handoffs_enabled
          ? `no package yet at ${file}: it is written when the phase is handed out (its dependencies done), on the machine that ran it`
          : 'this run saves no packages (agent_handoff_enabled is off)'
        : `cannot read ${file}: ${(err as Error).message}`;
    return { path: file, script_path: scriptPath, package: null, problem };
  }
}

/** The phase's latest package from the store, when this machine has none. */
async function storedPackage(status: RunStatus, key: string): Promise<PackageResponse | undefined> {
  const store = configuredStore(status.store);
  if (!store) return undefined;
  const objectKey = runKey(status.execution_id, 'handoffs', handoffFileName(key));
  const head = await store.head(objectKey).catch(() => undefined);
  if (!head || head.size > MAX_PACKAGE_BYTES) return undefined;
  const pkg = JSON.parse((await store.get(objectKey)).toString('utf8')) as unknown;
  return { path: `${store.location}/${objectKey}`, script_path: null, package: pkg };
}
