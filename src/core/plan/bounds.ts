/**
 * A plan's and a config's bounds: sizes, counts, nesting and ranges (see LIMITS), checked on the
 * JSON as written, beside the schema's checks (which say what type a field must be; these say how
 * much of it). A value of the wrong type is the schema's problem and is left alone here, so no
 * field is reported twice. Pure: the workflow checks its input with these too.
 */
import { bytesText, countText, LIMITS, measureJson, pathText } from '../api/limits.js';
import { isRecord, phasePlace, quoteValue } from './schema-problems.js';

const PLAN = 'the plan';
const CONFIG = 'the orchestrator config';
const DAY_S = 24 * 3600;

interface Range {
  min: number;
  max: number;
}

/** A field as problems quote it: `"retries"`, or bare when its path quotes a key itself (`resource_classes["big-gpu"].retries`). */
function q(field: string): string {
  return field.includes('"') ? field : `"${field}"`;
}

function daysText(seconds: number): string {
  const days = seconds / DAY_S;
  return days === 1 ? '1 day' : `${countText(days)} days`;
}

/** `must be from 1 to 2,592,000 seconds (30 days)`, for a number of seconds > 0 out of range. */
function secondsProblem(where: string, field: string, value: unknown, range: Range): string | undefined {
  if (typeof value !== 'number' || !(value > 0) || (value >= range.min && value <= range.max)) return undefined;
  return `${where}: ${q(field)} must be from ${countText(range.min)} to ${countText(range.max)} seconds (${daysText(range.max)}), got ${quoteValue(value)}`;
}

/** `must be at most 100`, for a whole number ≥ 0 over its limit. */
function countProblem(where: string, field: string, value: unknown, max: number, why = ''): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value <= max) return undefined;
  return `${where}: ${q(field)} must be at most ${countText(max)}${why}, got ${quoteValue(value)}`;
}

function textProblem(where: string, field: string, value: unknown, max: number): string | undefined {
  if (typeof value !== 'string' || value.length <= max) return undefined;
  return `${where}: ${q(field)} is ${countText(value.length)} characters long; at most ${countText(max)}`;
}

function listProblem(where: string, field: string, value: unknown, max: number, fix: string): string | undefined {
  const n = Array.isArray(value) ? value.length : isRecord(value) ? Object.keys(value).length : 0;
  if (n <= max) return undefined;
  return `${where}: "${field}" has ${countText(n)} entries; at most ${countText(max)}${fix}`;
}

/**
 * A user's JSON value (global_context, a config, an output schema) that nests too deep or is too
 * large: deep JSON overflows the call stack wherever it is serialised (every phase, every package),
 * and a large one travels in every package and history event that carries it.
 */
export function jsonValueProblems(where: string, field: string, value: unknown, maxBytes: number, fix: string): string[] {
  if (value === undefined || value === null || typeof value !== 'object') return [];
  const measured = measureJson(value, { stopAtBytes: maxBytes });
  const problems: string[] = [];
  if (measured.tooDeepAt) {
    problems.push(`${where}: "${field}" is nested more than ${LIMITS.depth} levels deep (at ${pathText(field, measured.tooDeepAt)}); at most ${LIMITS.depth}: flatten it`);
  }
  if (measured.bytes > maxBytes) {
    problems.push(`${where}: "${field}" is ${measured.stopped ? 'over ' : ''}${bytesText(measured.bytes)} as JSON; at most ${bytesText(maxBytes)}: ${fix}`);
  }
  return problems;
}

const IN_A_FILE = 'keep large data in a file under the workdir and name it in shared_artifacts';

/** Every bound a plan breaks, in the words plan problems use. */
export function planBoundsProblems(plan: unknown): string[] {
  if (!isRecord(plan)) return [];
  const problems: Array<string | undefined> = [];
  problems.push(textProblem(PLAN, 'name', plan.name, LIMITS.nameChars));
  problems.push(textProblem(PLAN, 'workdir', plan.workdir, LIMITS.pathChars));
  problems.push(textProblem(PLAN, 'base_dir', plan.base_dir, LIMITS.pathChars));
  problems.push(...jsonValueProblems(PLAN, 'global_context', plan.global_context, LIMITS.globalContextBytes, `it travels in every phase's package; ${IN_A_FILE}`));
  problems.push(listProblem(PLAN, 'shared_artifacts', plan.shared_artifacts, LIMITS.sharedArtifacts, ''));
  if (isRecord(plan.shared_artifacts)) {
    for (const [name, file] of Object.entries(plan.shared_artifacts).slice(0, LIMITS.sharedArtifacts)) {
      problems.push(textProblem(PLAN, `shared_artifacts.${name}`, file, LIMITS.pathChars));
    }
  }
  problems.push(listProblem(PLAN, 'safe_keys', plan.safe_keys, LIMITS.safeKeys, ''));
  const phases = plan.phases;
  if (Array.isArray(phases)) {
    if (phases.length > LIMITS.phases) {
      problems.push(
        `${PLAN} has ${countText(phases.length)} phases; at most ${countText(LIMITS.phases)} in one run: split it into several runs of at most ${countText(LIMITS.phases)} phases (a run's state and input must stay within Temporal's payload limits)`,
      );
    } else {
      phases.forEach((phase, i) => problems.push(...phaseBoundsProblems(phase, i)));
    }
  }
  return problems.filter((p): p is string => p !== undefined);
}

function phaseBoundsProblems(phase: unknown, index: number): Array<string | undefined> {
  if (!isRecord(phase)) return [];
  const where = phasePlace(phase, index);
  return [
    textProblem(where, 'name', phase.name, LIMITS.nameChars),
    textProblem(where, 'description', phase.description, LIMITS.descriptionChars),
    textProblem(where, 'handler', phase.handler, LIMITS.nameChars),
    listProblem(where, 'depends_on', phase.depends_on, LIMITS.dependencies, ''),
    ...argvProblems(where, 'command', phase.command),
    ...argvProblems(where, 'compensate', phase.compensate),
    ...jsonValueProblems(where, 'config', phase.config, LIMITS.phaseConfigBytes, `it travels in the phase's package; ${IN_A_FILE}`),
    ...jsonValueProblems(where, 'output_schema', phase.output_schema, LIMITS.phaseConfigBytes, 'a schema this large is more than any output needs'),
    secondsProblem(where, 'timeout_s', phase.timeout_s, LIMITS.timeoutS),
    secondsProblem(where, 'agent_timeout_s', phase.agent_timeout_s, LIMITS.agentTimeoutS),
    countProblem(where, 'retries', phase.retries, LIMITS.retries),
  ];
}

function argvProblems(where: string, field: string, argv: unknown): Array<string | undefined> {
  if (!Array.isArray(argv)) return [];
  if (argv.length > LIMITS.argvItems) return [`${where}: "${field}" has ${countText(argv.length)} arguments; at most ${countText(LIMITS.argvItems)}: pass long input in a file`];
  return argv.map((arg, i) => (typeof arg === 'string' && arg.length > LIMITS.argvItemChars ? `${where}: "${field}[${i}]" is ${countText(arg.length)} characters long; at most ${countText(LIMITS.argvItemChars)}: pass long input in a file` : undefined));
}

/** Every bound a config breaks. */
export function configBoundsProblems(config: unknown): string[] {
  if (!isRecord(config)) return [];
  const problems: Array<string | undefined> = [
    secondsProblem(CONFIG, 'default_timeout_s', config.default_timeout_s, LIMITS.timeoutS),
    secondsProblem(CONFIG, 'agent_timeout_s', config.agent_timeout_s, LIMITS.agentTimeoutS),
    secondsProblem(CONFIG, 'heartbeat_timeout_s', config.heartbeat_timeout_s, LIMITS.heartbeatTimeoutS),
    countProblem(CONFIG, 'default_retries', config.default_retries, LIMITS.retries),
    countProblem(CONFIG, 'worker_loss_retries', config.worker_loss_retries, LIMITS.workerLossRetries),
    countProblem(CONFIG, 'continue_as_new_after_phases', config.continue_as_new_after_phases, LIMITS.continueAsNewAfterPhases),
    listProblem(CONFIG, 'resource_classes', config.resource_classes, LIMITS.resourceClasses, ''),
  ];
  if (isRecord(config.resource_classes)) {
    for (const [name, cls] of Object.entries(config.resource_classes).slice(0, LIMITS.resourceClasses)) {
      if (!isRecord(cls)) continue;
      const at = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `resource_classes.${name}` : `resource_classes[${JSON.stringify(name)}]`;
      if (name.length > LIMITS.nameChars) problems.push(`${CONFIG}: the resource class name ${quoteValue(name)} is ${countText(name.length)} characters long; at most ${LIMITS.nameChars}`);
      problems.push(
        secondsProblem(CONFIG, `${at}.timeout_s`, cls.timeout_s, LIMITS.timeoutS),
        countProblem(CONFIG, `${at}.retries`, cls.retries, LIMITS.retries),
        countProblem(CONFIG, `${at}.concurrency`, cls.concurrency, LIMITS.concurrency),
      );
    }
  }
  return problems.filter((p): p is string => p !== undefined);
}
