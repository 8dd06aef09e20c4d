/**
 * A package handed to an agent, on the agent's machine. Its run names it by its path on the
 * orchestrator worker's machine (`awaiting.handoff_path`); with a store, an agent elsewhere gets it
 * from the store (`runs/<run>/handoffs/<file>`, where the orchestrator worker put it) into its own
 * cache of the run's workdir, and every input the package references with it.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HandoffPackageSchema, type HandoffPackage } from '../core/handoff/schema.js';
import { cachedWorkdir, configuredStore, pullPackageInputs, runKey } from '../runner/store/sync.js';
import { resolveWorkdir, runDirName, RUNS_DIR } from '../runner/workdir.js';

/**
 * The package file to read on this machine: `file` itself when it is here, else (with a store) the
 * store's copy, fetched into this machine's cache. Without a store and without the file, `file`
 * (whoever reads it says it is missing).
 */
export async function localPackageFile(file: string, executionId: string, runStore?: string): Promise<string> {
  if (existsSync(file)) return file;
  const store = configuredStore(runStore);
  if (!store) return file;
  const key = runKey(executionId, 'handoffs', path.basename(file));
  const text = (await store.get(key)).toString('utf8');
  const parsed = HandoffPackageSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`the store's ${key} is not a handoff package`);
  const local = path.join(cachedWorkdir(parsed.data), RUNS_DIR, runDirName(executionId), 'handoffs', path.basename(file));
  await mkdir(path.dirname(local), { recursive: true });
  await writeFile(local, text, { mode: 0o600 });
  return local;
}

/**
 * The run's workdir as an agent on this machine sees it: with a store, its own cache, filled with
 * the package's inputs; without, where the package says.
 */
export async function agentWorkdir(pkg: HandoffPackage): Promise<string> {
  const store = configuredStore(pkg.execution_instructions.store);
  if (!store) return resolveWorkdir(pkg.execution_instructions.workdir, pkg.execution_instructions.base_dir);
  const workdir = cachedWorkdir(pkg);
  await pullPackageInputs(store, pkg, workdir);
  return workdir;
}
