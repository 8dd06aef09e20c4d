/**
 * One entry point that turns untrusted JSON into a checked plan and config.
 *
 * Every problem is reported at once, in one PlanError: the config's, the plan's schema problems,
 * and the graph's (a cycle, an unknown dependency, ...), which are checked on whatever of the
 * plan can be read even when its schema fails.
 */
import { describeFindings, findSecrets } from '../handoff/secrets.js';
import { configBoundsProblems, planBoundsProblems } from './bounds.js';
import { graphProblems, type PhaseOutline } from './graph.js';
import { isRecord, phasePlace, quoteValue, ruleFor, schemaProblems } from './schema-problems.js';
import { PlanError } from './problems.js';
import {
  PhaseIdSchema,
  planSchemas,
  ResourceClassNameSchema,
  type OrchestratorConfig,
  type Plan,
  type UnknownKeys,
} from './schema.js';

export interface CheckedRun {
  plan: Plan;
  config: OrchestratorConfig;
}

export interface CheckOptions {
  /**
   * `refuse` (the default): an unknown key is a problem, named with the key probably meant.
   * `ignore`: the rules before unknown keys were refused, exactly (unknown keys dropped, every
   * phase needs a `name`), for the workflow to replay runs recorded then. See UnknownKeys.
   */
  unknownKeys?: UnknownKeys;
  /**
   * Why phases' `output_schema`s cannot be used, by the phase's index in the plan (see
   * outputSchemasOf): compiled beforehand, since the validator (Ajv) runs on worker threads and
   * never in the workflow sandbox. The workflow asks the orchestrator worker instead (see
   * core/workflows/output-schemas.ts) and words its answer with outputSchemaError.
   */
  outputSchemaProblems?: Record<string, string>;
  /**
   * `all` (the default): every field of the plan that can reach a package, history or disk is
   * scanned for credentials. `contexts`: only global_context, shared_artifacts and each phase's
   * config and command, as before names, descriptions, schemas and rollbacks were scanned, for the
   * workflow to replay runs started then.
   */
  secretScan?: 'all' | 'contexts';
  /**
   * Check sizes, counts, nesting and ranges too (see LIMITS; the default). Off only for the
   * workflow to replay runs started before these bounds (behaviour.ts, BOUNDS_PATCH).
   */
  bounds?: boolean;
}

const PLAN = 'the plan';
const CONFIG = 'the orchestrator config';

/** Parses and checks a plan and config; throws PlanError listing every problem found in either. */
export function checkRun(planJson: unknown, configJson: unknown = {}, options: CheckOptions = {}): CheckedRun {
  const schemas = planSchemas(options.unknownKeys);
  const configRaw = configJson ?? {};
  const config = schemas.config.safeParse(configRaw, { error: ruleFor });
  const plan = schemas.plan.safeParse(planJson, { error: ruleFor });

  const configProblems = config.success ? [] : schemaProblems(config.error, { name: CONFIG, raw: configRaw, schema: schemas.config, hasPhases: false });
  const planProblems = plan.success ? [] : schemaProblems(plan.error, { name: PLAN, raw: planJson, schema: schemas.plan, hasPhases: true });
  if (options.bounds !== false) {
    configProblems.push(...configBoundsProblems(configRaw));
    planProblems.push(...planBoundsProblems(planJson));
  }
  const phases = plan.success ? plan.data.phases : readablePhases(planJson);
  if (phases) {
    const classes = config.success ? Object.keys(config.data.resource_classes) : readableClasses(configRaw, options.unknownKeys);
    planProblems.push(...graphProblems(phases, classes));
  }
  if (options.outputSchemaProblems) planProblems.push(...outputSchemaLines(isRecord(planJson) ? planJson.phases : undefined, options.outputSchemaProblems));
  planProblems.push(...planSecretProblems(plan.success ? plan.data : planJson, options.secretScan ?? 'all'));

  if (configProblems.length === 0 && planProblems.length === 0 && plan.success && config.success) {
    return { plan: plan.data, config: config.data };
  }
  const name = plan.success ? plan.data.name : isRecord(planJson) ? planJson.name : undefined;
  const planWhat = typeof name === 'string' && name !== '' ? `${PLAN} ${quoteValue(name)}` : PLAN;
  if (planProblems.length === 0) throw new PlanError(CONFIG, configProblems);
  if (configProblems.length === 0) throw new PlanError(planWhat, planProblems);
  throw new PlanError(`${planWhat} and ${CONFIG}`, [...configProblems, ...planProblems], 'are');
}

/**
 * Every phase's `output_schema` as written, by the phase's index in the plan: what is compiled
 * before a run starts. A schema that is not an object is left to the plan's own schema check.
 */
export function outputSchemasOf(planJson: unknown): Record<string, Record<string, unknown>> {
  const phases = isRecord(planJson) && Array.isArray(planJson.phases) ? (planJson.phases as unknown[]) : [];
  const schemas: Record<string, Record<string, unknown>> = {};
  phases.forEach((phase, i) => {
    if (isRecord(phase) && isRecord(phase.output_schema)) schemas[String(i)] = phase.output_schema;
  });
  return schemas;
}

/** The plan's refusal for output_schemas that cannot be used (problems by phase index), or undefined. */
export function outputSchemaError(plan: Plan, problems: Record<string, string>): PlanError | undefined {
  const lines = outputSchemaLines(plan.phases, problems);
  return lines.length === 0 ? undefined : new PlanError(`${PLAN} ${quoteValue(plan.name)}`, lines);
}

function outputSchemaLines(phases: unknown, problems: Record<string, string>): string[] {
  const list: unknown[] = Array.isArray(phases) ? phases : [];
  return Object.entries(problems)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([i, problem]) => `${phasePlace(list[Number(i)], Number(i))}: "output_schema" is not a valid JSON Schema (draft 2020-12): ${problem}`);
}

export function checkConfig(configJson: unknown, options: CheckOptions = {}): OrchestratorConfig {
  const schema = planSchemas(options.unknownKeys).config;
  const raw = configJson ?? {};
  const config = schema.safeParse(raw, { error: ruleFor });
  const problems = config.success ? [] : schemaProblems(config.error, { name: CONFIG, raw, schema, hasPhases: false });
  if (options.bounds !== false) problems.push(...configBoundsProblems(raw));
  if (problems.length > 0 || !config.success) throw new PlanError(CONFIG, problems);
  return config.data;
}

/**
 * What the graph checks can read of a plan that fails its schema: each phase with a good id, its
 * good dependencies, and its class if that is good. Undefined when there is no list of phases, or
 * no phase in it has a good id.
 */
function readablePhases(planJson: unknown): PhaseOutline[] | undefined {
  const phases = isRecord(planJson) ? planJson.phases : undefined;
  if (!Array.isArray(phases)) return undefined;
  const outlines: PhaseOutline[] = [];
  for (const raw of phases) {
    if (!isRecord(raw)) continue;
    const id = PhaseIdSchema.safeParse(raw.id);
    if (!id.success) continue;
    const cls = ResourceClassNameSchema.default('default').safeParse(raw.resource_class);
    outlines.push({
      id: id.data,
      name: typeof raw.name === 'string' && raw.name !== '' ? raw.name : String(id.data),
      depends_on: Array.isArray(raw.depends_on) ? raw.depends_on.filter((dep) => PhaseIdSchema.safeParse(dep).success) : [],
      resource_class: cls.success ? cls.data : undefined,
      command: raw.command,
      handler: raw.handler,
    });
  }
  // Not one phase readable: checking the graph would only say there are none.
  return phases.length > 0 && outlines.length === 0 ? undefined : outlines;
}

/** The classes a config that fails its schema declares, if its `resource_classes` can be read. */
function readableClasses(configRaw: unknown, unknownKeys: UnknownKeys | undefined): string[] | undefined {
  const classes = planSchemas(unknownKeys).config.safeParse({ resource_classes: isRecord(configRaw) ? configRaw.resource_classes : undefined });
  return classes.success ? Object.keys(classes.data.resource_classes) : undefined;
}

/** The plan's own fields besides its contexts, and a phase's besides its config, that reach packages, history or disk. */
const PLAN_TEXT_FIELDS = ['name', 'workdir', 'base_dir'] as const;
const PHASE_TEXT_FIELDS = ['name', 'description', 'command', 'handler', 'compensate', 'output_schema'] as const;

function pick(record: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => record[k] !== undefined).map((k) => [k, record[k]]));
}

/**
 * Credentials in a plan would travel into every package, history and file: refuse them up front.
 * Every field that reaches a package, the status or a file is scanned (as written, when the plan
 * fails its schema): the contexts, names, descriptions, commands, rollbacks, output schemas.
 */
function planSecretProblems(plan: Plan | unknown, scan: 'all' | 'contexts'): string[] {
  if (!isRecord(plan)) return [];
  const safeKeys = Array.isArray(plan.safe_keys) ? plan.safe_keys.filter((k): k is string => typeof k === 'string') : [];
  const problems = describeFindings([
    ...(scan === 'all' ? findSecrets(pick(plan, PLAN_TEXT_FIELDS), { safeKeys }) : []),
    ...findSecrets(plan.global_context, { root: 'global_context', safeKeys }),
    ...findSecrets(plan.shared_artifacts, { root: 'shared_artifacts', safeKeys }),
  ]).map((p) => `${PLAN}: ${p}`);
  const phases = Array.isArray(plan.phases) ? plan.phases : [];
  phases.forEach((phase: unknown, i) => {
    if (!isRecord(phase)) return;
    // Scanned at its place in the file, so a safe_keys path like "phases[0].config.x" still applies.
    const at = `phases[${i}]`;
    const findings = [
      ...findSecrets(phase.config, { root: `${at}.config`, safeKeys }),
      ...(scan === 'all'
        ? findSecrets(pick(phase, PHASE_TEXT_FIELDS), { root: at, safeKeys })
        : findSecrets(phase.command, { root: `${at}.command`, safeKeys })),
    ].map((f) => ({ ...f, path: f.path.startsWith(`${at}.`) ? f.path.slice(at.length + 1) : f.path }));
    problems.push(...describeFindings(findings).map((p) => `${phasePlace(phase, i)}: ${p}`));
  });
  return problems;
}
