/**
 * Reading plan and config files (JSON or YAML) and checking them before anything starts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PlanError } from '../core/plan/problems.js';
import type { OrchestratorConfig, Plan } from '../core/plan/schema.js';
import { checkConfig, checkRun, outputSchemasOf, type CheckedRun } from '../core/plan/validate.js';
import { outputSchemaProblems } from '../runner/output-schema.js';
import { decodeText, parseYamlData } from './structured-text.js';

export async function readStructuredFile(file: string, what: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PlanError(what, [code === 'ENOENT' ? `${file} does not exist; check the path` : `${file} cannot be read (${(err as Error).message})`]);
  }
  const decoded = decodeText(bytes, file);
  if ('problems' in decoded) throw new PlanError(what, decoded.problems);
  const yaml = /\.ya?ml$/i.test(file);
  try {
    if (!yaml) return JSON.parse(decoded.text);
    const data = parseYamlData(decoded.text, file);
    if ('problems' in data) throw new PlanError(what, data.problems);
    return data.value;
  } catch (err) {
    if (err instanceof PlanError) throw err;
    throw new PlanError(what, [`${file} is not valid ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message}`]);
  }
}

export interface LoadedRun {
  plan: Plan;
  config: OrchestratorConfig;
}

/**
 * Loads and checks a plan (and optional config). Relative paths in the plan resolve against
 * the plan file's directory, so `base_dir` is set to it unless the plan sets its own.
 */
export async function loadRun(planFile: string, configFile?: string): Promise<LoadedRun> {
  const planJson = await readStructuredFile(planFile, 'the plan');
  const configJson = configFile ? await readStructuredFile(configFile, 'the orchestrator config') : {};
  if (planJson && typeof planJson === 'object' && !Array.isArray(planJson)) {
    const raw = planJson as { base_dir?: unknown };
    const planDir = path.dirname(path.resolve(planFile));
    raw.base_dir = typeof raw.base_dir === 'string' ? path.resolve(planDir, raw.base_dir) : planDir;
  }
  return checkPlan(planJson, configJson);
}

/**
 * checkRun with every phase's `output_schema` compiled as well (JSON Schema draft 2020-12, on a
 * worker thread, with a time limit): a schema that cannot be used is refused with the plan's
 * other problems, before any workflow exists, rather than refusing every result later.
 */
export async function checkPlan(planJson: unknown, configJson: unknown = {}): Promise<CheckedRun> {
  const schemas = outputSchemasOf(planJson);
  const problems = Object.keys(schemas).length === 0 ? {} : await outputSchemaProblems(schemas);
  return checkRun(planJson, configJson, { outputSchemaProblems: problems });
}

export async function loadConfig(configFile: string | undefined): Promise<OrchestratorConfig | undefined> {
  if (!configFile) return undefined;
  return checkConfig(await readStructuredFile(configFile, 'the orchestrator config'));
}
