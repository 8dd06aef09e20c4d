/**
 * A phase's `output_schema`: a JSON Schema (draft 2020-12) that an agent's reported `context` must
 * match, checked with Ajv. Schemas are compiled before a run starts (by the client, and by the
 * orchestrator worker for a run started from the Temporal CLI), so a bad one is refused up front;
 * results are checked with a time limit and a size limit, on worker threads (schema-threads.ts),
 * so that a schema or a value made to be slow costs one refused result, never a frozen worker.
 */
import { formatPath } from '../core/plan/problems.js';
import { MAX_FINDINGS, SchemaThreadPool, type Finding, type ThreadAnswer } from './schema-threads.js';

export interface SchemaCheckLimits {
  /** How long one compile or check may take before its thread is stopped and the result refused. */
  timeoutMs: number;
  /** The largest value (as JSON, in bytes) a check takes. */
  maxBytes: number;
}

export const DEFAULT_SCHEMA_CHECK_LIMITS: SchemaCheckLimits = { timeoutMs: 2000, maxBytes: 16 * 1024 * 1024 };

/**
 * The limits from the environment of the process that checks (the orchestrator worker):
 * `BATON_SCHEMA_CHECK_TIMEOUT_S` (default 2) and `BATON_SCHEMA_CHECK_MAX_BYTES` (default 16 MiB).
 * Throws on a value that is not a positive number, so a typo stops the worker at its start.
 */
export function schemaCheckLimits(env: NodeJS.ProcessEnv = process.env): SchemaCheckLimits {
  const read = (name: string, fallback: number, scale: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a number > 0, got ${JSON.stringify(raw)}`);
    return Math.max(1, Math.round(n * scale));
  };
  return {
    timeoutMs: read('BATON_SCHEMA_CHECK_TIMEOUT_S', DEFAULT_SCHEMA_CHECK_LIMITS.timeoutMs, 1000),
    maxBytes: read('BATON_SCHEMA_CHECK_MAX_BYTES', DEFAULT_SCHEMA_CHECK_LIMITS.maxBytes, 1),
  };
}

let pool: SchemaThreadPool | undefined;

function threads(): SchemaThreadPool {
  pool ??= new SchemaThreadPool(2);
  return pool;
}

/**
 * Why `schema` cannot be used as an output_schema (in Ajv's words, with the place in the schema:
 * `type: must be equal to one of the allowed values ("array", "boolean", …)`), or undefined.
 */
export async function outputSchemaProblem(schema: unknown, limits: SchemaCheckLimits = schemaCheckLimits()): Promise<string | undefined> {
  const answer = await threads().run({ schema: JSON.stringify(schema) }, limits.timeoutMs);
  if ('invalid' in answer) return answer.invalid.map((f) => findingText(f, [])).join('; ');
  if ('timedOut' in answer) return `compiling it took longer than ${seconds(limits.timeoutMs)}`;
  if ('failed' in answer) return `it could not be compiled (${answer.failed})`;
  return undefined;
}

/** outputSchemaProblem for several schemas, by key (a phase's index in the plan, say): only those with a problem. */
export async function outputSchemaProblems(schemas: Record<string, unknown>, limits: SchemaCheckLimits = schemaCheckLimits()): Promise<Record<string, string>> {
  const entries = await Promise.all(Object.entries(schemas).map(async ([key, schema]) => [key, await outputSchemaProblem(schema, limits)] as const));
  return Object.fromEntries(entries.filter((e): e is readonly [string, string] => e[1] !== undefined));
}

export type SchemaVerdict =
  | { ok: true }
  /** The value does not match: each problem names its place under `root`. */
  | { ok: false; problems: string[] }
  /** The schema itself cannot be used (a run from before schemas were checked at its start). */
  | { ok: false; unusable: string };

/**
 * Checks `value` against `schema` on a worker thread, within the limits. Places are named from
 * `root` (`['output', 'context']` gives `output.context.report_path: must be string`).
 */
export async function checkOutputSchema(schema: unknown, value: unknown, root: PropertyKey[], limits: SchemaCheckLimits = schemaCheckLimits()): Promise<SchemaVerdict> {
  let json: string;
  try {
    json = JSON.stringify(value) ?? 'null';
  } catch (err) {
    return { ok: false, problems: [`${formatPath(root)}: cannot be checked against the output_schema (${(err as Error).message}: nested too deeply?)`] };
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > limits.maxBytes) return { ok: false, problems: [tooLarge(root, bytes, limits)] };
  const answer: ThreadAnswer = await threads().run({ schema: JSON.stringify(schema), value: json }, limits.timeoutMs);
  if ('timedOut' in answer) {
    return { ok: false, problems: [`${formatPath(root)}: the output_schema check took longer than ${seconds(limits.timeoutMs)} (a pattern that backtracks?)`] };
  }
  if ('failed' in answer) return { ok: false, problems: [`${formatPath(root)}: the output_schema check failed (${answer.failed})`] };
  if ('invalid' in answer) return { ok: false, unusable: answer.invalid.map((f) => findingText(f, [])).join('; ') };
  if (answer.valid) return { ok: true };
  const problems = answer.findings.map((f) => findingText(f, root));
  if (answer.total > MAX_FINDINGS) problems.push(`and ${answer.total - MAX_FINDINGS} more`);
  return { ok: false, problems };
}

/** Refused before anything is read or sent to a thread: `bytes` as JSON (or as declared) is over the limit. */
export function tooLarge(root: PropertyKey[], bytes: number, limits: SchemaCheckLimits): string {
  return `${formatPath(root)}: is ${bytes.toLocaleString('en-US')} bytes as JSON, over the ${bytesText(limits.maxBytes)} the output_schema check takes (BATON_SCHEMA_CHECK_MAX_BYTES on the orchestrator worker)`;
}

const MAX_MESSAGE = 300;

function findingText(finding: Finding, root: PropertyKey[]): string {
  const text = `${finding.message}${detail(finding)}`;
  const message = text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
  return finding.path === null ? message : `${formatPath([...root, ...finding.path])}: ${message}`;
}

/** What Ajv's message leaves in its params: the allowed values, the key not allowed. */
function detail(finding: Finding): string {
  const params = finding.params ?? {};
  if (finding.keyword === 'enum' && Array.isArray(params.allowedValues)) return ` (${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
  if (finding.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') return `: ${JSON.stringify(params.additionalProperty)}`;
  if (finding.keyword === 'unevaluatedProperties' && typeof params.unevaluatedProperty === 'string') return `: ${JSON.stringify(params.unevaluatedProperty)}`;
  return '';
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

function bytesText(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes.toLocaleString('en-US')} bytes`;
}
