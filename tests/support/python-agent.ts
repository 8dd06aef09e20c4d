/**
 * The Python the agent-contract tests run: a venv under the git-ignored .temporal/pyagent with the
 * packages in tests/fixtures/agent-requirements.txt from PyPI (`python3 -m venv`, then pip). Made on
 * first use and kept while the requirements file is unchanged; PYTHON picks another interpreter
 * to make it with.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { FIXTURES, ROOT } from './baton.js';

export const PYAGENT_DIR = path.join(ROOT, '.temporal', 'pyagent');
const REQUIREMENTS = path.join(FIXTURES, 'agent-requirements.txt');
const STAMP = path.join(PYAGENT_DIR, 'baton-requirements.txt');

const run = promisify(execFile);

/** The venv's python, made (or remade, when the requirements changed) first. */
export async function pythonAgentVenv(): Promise<string> {
  const python = path.join(PYAGENT_DIR, 'bin', 'python');
  const wanted = await readFile(REQUIREMENTS, 'utf8');
  if (existsSync(python) && (await readFile(STAMP, 'utf8').catch(() => '')) === wanted) return python;
  await rm(PYAGENT_DIR, { recursive: true, force: true });
  const started = Date.now();
  try {
    await run(process.env.PYTHON ?? 'python3', ['-m', 'venv', PYAGENT_DIR]);
    await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS], { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`could not make the Python agent's venv in ${PYAGENT_DIR} (python3 -m venv, then pip install -r ${REQUIREMENTS}): ${e.stderr?.trim() || e.message}`);
  }
  await writeFile(STAMP, wanted);
  console.log(`python agent venv: made ${PYAGENT_DIR} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return python;
}

export interface PythonRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The last line of stdout, as JSON. */
  json: Record<string, unknown>;
}

/** Runs a script with the venv's python; never throws for a non-zero exit. */
export async function runPython(python: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<PythonRun> {
  const done = await run(python, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string; message: string }) => ({ code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message }),
  );
  const last = done.stdout.trim().split('\n').at(-1) ?? '';
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(last) as Record<string, unknown>;
  } catch {
    // not JSON: the caller's assertion shows stdout and stderr
  }
  return { ...done, json };
}
