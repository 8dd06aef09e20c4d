/**
 * Whether a package is one its run handed out. A signed package vouches for itself; an unsigned one
 * (`baton execute-phase --allow-unsigned`) does not, since anyone who can change it can recompute
 * its unkeyed `content_hash`. So before it runs, it is compared with what its run recorded: the
 * package the workflow built is the input of the activity it scheduled for the phase (runPhase,
 * handOffToAgent), in the run's history. Every field must be the same but those the worker stamps
 * when it seals (attempt, content_hash, signature): the command, the config, the dependencies'
 * outputs, the instructions.
 *
 * Offline, with no history to read, what the run's files on this machine say is checked instead:
 * each dependency's output against the one the run committed (runs/<execution_id>/outputs/).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { BUILT_IN_RUN_ENV, withPreviousContext } from '../core/handoff/build.js';
import { canonicalJson } from '../core/handoff/canonical.js';
import { HandoffPackageSchema, type HandoffPackage } from '../core/handoff/schema.js';
import { formatPath } from '../core/plan/problems.js';
import { runPaths } from '../runner/workdir.js';
import type { HistoryEvent } from './history.js';
import { fetchEvents, scheduledPhases } from './reset.js';

/** How many runs of a chain (continued as new) are read back for the package, at most. */
const MAX_RUNS_READ = 50;

/** Fields the worker stamps on the package the workflow built, when it seals it for an attempt. */
function comparable(pkg: HandoffPackage): Record<string, unknown> {
  const { attempt: _attempt, content_hash: _hash, signature: _signature, ...rest } = pkg;
  return rest;
}

/** The paths at which two packages differ: top-level fields, and the instructions' fields one by one. */
function differences(given: HandoffPackage, recorded: HandoffPackage): string[] {
  const a = comparable(given);
  const b = comparable(recorded);
  const paths: string[] = [];
  for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[field];
    const y = b[field];
    if (canonicalJson(x ?? null) === canonicalJson(y ?? null)) continue;
    if (field === 'execution_instructions' && x && y && typeof x === 'object' && typeof y === 'object') {
      const xi = x as Record<string, unknown>;
      const yi = y as Record<string, unknown>;
      for (const sub of new Set([...Object.keys(xi), ...Object.keys(yi)])) {
        if (canonicalJson(xi[sub] ?? null) !== canonicalJson(yi[sub] ?? null)) paths.push(formatPath([field, sub]));
      }
    } else {
      paths.push(formatPath([field]));
    }
  }
  return paths;
}

/**
 * Why `pkg` is not a package its run recorded for its phase and generation, or undefined when it is.
 * Reads the run that built it (named in its environment), else the run's chain from its latest run back.
 */
export async function recordedPackageProblem(client: Client, pkg: HandoffPackage): Promise<string | undefined> {
  const key = String(pkg.to_phase);
  const recorded = await recordedPackages(client, pkg);
  if (typeof recorded === 'string') return recorded;
  if (recorded.length === 0) {
    return `run ${pkg.execution_id} never handed out generation ${pkg.generation} of phase ${key} (its history has no such package), so nothing vouches for it`;
  }
  if (recorded.some((r) => differences(pkg, r).length === 0)) return undefined;
  const differ = differences(pkg, recorded[0]!);
  return `it is not the package run ${pkg.execution_id} handed out for phase ${key}, generation ${pkg.generation}: ${differ.join(', ')} ${differ.length === 1 ? 'differs' : 'differ'} from what the run recorded`;
}

/** The packages the run scheduled for the phase's generation (one per dispatch), or why the run cannot be read. */
async function recordedPackages(client: Client, pkg: HandoffPackage): Promise<HandoffPackage[] | string> {
  const found = (events: HistoryEvent[]): HandoffPackage[] =>
    scheduledPhases(events)
      .filter((s) => String(s.pkg.to_phase) === String(pkg.to_phase) && s.pkg.generation === pkg.generation)
      .map((s) => HandoffPackageSchema.safeParse(withPreviousContext(s.pkg)))
      .flatMap((parsed) => (parsed.success ? [parsed.data] : []));
  const builtBy = pkg.execution_instructions.env[BUILT_IN_RUN_ENV];
  if (builtBy) {
    try {
      const packages = found(await fetchEvents(client, pkg.execution_id, builtBy));
      if (packages.length > 0) return packages;
    } catch {
      // Not there (or not that run's): look through the run's chain instead.
    }
  }
  const seen = new Set<string>();
  let runId: string | undefined;
  for (let read = 0; read < MAX_RUNS_READ; read++) {
    let events: HistoryEvent[];
    try {
      events = await fetchEvents(client, pkg.execution_id, runId);
    } catch (err) {
      if (read === 0) return `its run ${pkg.execution_id} cannot be read (${(err as Error).message}), so nothing vouches for it`;
      break;
    }
    const packages = found(events);
    if (packages.length > 0) return packages;
    // Handed out in an earlier segment of a run that continued as new?
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    if (!runId || seen.has(runId)) break;
    seen.add(runId);
  }
  return [];
}

/**
 * Offline: the dependencies' outputs in the package against those the run committed on this machine
 * (`runs/<execution_id>/outputs/phase_<id>.json`). Returns the problems and the outputs it could check.
 */
export async function committedOutputProblems(pkg: HandoffPackage, workdir: string): Promise<{ problems: string[]; checked: string[] }> {
  const outputs = runPaths(workdir, pkg.execution_id).outputs;
  const problems: string[] = [];
  const checked: string[] = [];
  for (const [key, context] of Object.entries(pkg.dependency_contexts)) {
    let committed: { generation?: unknown; context?: unknown; artifacts?: unknown };
    try {
      committed = JSON.parse(await readFile(path.join(outputs, `phase_${key}.json`), 'utf8')) as typeof committed;
    } catch {
      continue; // not on this machine: not checked
    }
    checked.push(key);
    if (canonicalJson({ context: committed.context ?? null, artifacts: committed.artifacts ?? null }) !== canonicalJson(context)) {
      problems.push(`${formatPath(['dependency_contexts', key])}: not the output phase ${key} committed (${path.join(outputs, `phase_${key}.json`)})`);
    }
  }
  return { problems, checked };
}
