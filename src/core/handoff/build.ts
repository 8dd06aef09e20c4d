/**
 * Builds a phase's handoff package from the graph and the outputs of its dependencies.
 *
 * Pure and deterministic (time comes in as an argument), because the workflow calls it
 * and its result goes into history as the activity's input.
 */
import { transitiveDependencies } from '../plan/graph.js';
import { phaseSettings } from '../plan/phase-settings.js';
import { phaseKey, type OrchestratorConfig, type Phase, type PhaseId, type Plan } from '../plan/schema.js';
import {
  HANDOFF_SCHEMA_VERSION,
  type HandoffPackage,
  type PhaseContext,
  type PhaseState,
} from './schema.js';

export interface PhaseProgress {
  state: PhaseState;
  attempts: number;
  /** Position in the order phases completed; decides which dependency is `from_phase`. */
  completedSeq?: number;
  output?: PhaseContext;
}

export interface BuildHandoffInput {
  executionId: string;
  plan: Plan;
  config: OrchestratorConfig;
  phase: Phase;
  phasesByKey: ReadonlyMap<string, Phase>;
  progress: ReadonlyMap<string, PhaseProgress>;
  /** Phases per state, when the caller keeps count (the run book does): saves a pass over every phase. */
  stateCounts?: Record<string, number>;
  generation: number;
  now: Date;
  /** Hand the phase to an external agent (the guide's mode 2). */
  separateAgent: boolean;
  /** The run marked its workdir (see ExecutionInstructions.workdir_marked). */
  workdirMarked?: boolean;
  /** The Temporal run building the package (see BUILT_IN_RUN_ENV). */
  temporalRunId?: string;
}

/**
 * The package's `execution_instructions.env` names the Temporal run that built it. A worker
 * dispatched the package by another run knows it is running an activity that was in flight when
 * its run was Reset (the server dispatches those again, in the run the Reset made, with the same
 * package), and gives that attempt files of its own.
 */
export const BUILT_IN_RUN_ENV = 'BATON_TEMPORAL_RUN_ID';

export const DEFAULT_WORKDIR_ROOT = '.baton';

/** Plans up to this size list every phase in each package's state_summary; larger ones, a phase's dependencies. */
export const STATE_SUMMARY_ALL_PHASES = 100;

export function planWorkdir(plan: Plan): string {
  return plan.workdir ?? `${DEFAULT_WORKDIR_ROOT}/${plan.name}`;
}

/**
 * The run's workdir as far as the workflow can tell: absolute when the plan's workdir or base_dir
 * is; otherwise relative to each worker's cwd. (Plain string work: the workflow has no `path`.)
 */
export function runWorkdir(plan: Plan): string {
  const workdir = planWorkdir(plan);
  if (workdir.startsWith('/') || !plan.base_dir) return workdir;
  return `${plan.base_dir.replace(/\/+$/, '')}/${workdir.replace(/^\.\//, '')}`;
}

export function buildHandoffPackage(input: BuildHandoffInput): HandoffPackage {
  const { phase, plan, config, progress } = input;
  const key = phaseKey(phase.id);
  const settings = phaseSettings(phase, config);

  const contextKeys = phase.transitive_context
    ? transitiveDependencies(input.phasesByKey, key)
    : phase.depends_on.map(phaseKey);
  const dependencyContexts: Record<string, PhaseContext> = {};
  for (const depKey of contextKeys) {
    const output = progress.get(depKey)?.output;
    // Skipped dependencies have no output; the phase sees them as absent, and state_summary says why.
    if (output) dependencyContexts[depKey] = output;
  }

  let fromPhase: PhaseId | null = null;
  let latestSeq = -1;
  for (const dep of phase.depends_on) {
    const seq = progress.get(phaseKey(dep))?.completedSeq;
    if (seq !== undefined && seq > latestSeq) {
      latestSeq = seq;
      fromPhase = dep;
    }
  }
  const previous = fromPhase === null ? null : (progress.get(phaseKey(fromPhase))?.output ?? null);

  const stateSummary: HandoffPackage['state_summary'] = {};
  const summarised = progress.size <= STATE_SUMMARY_ALL_PHASES ? [...progress.keys()] : [...new Set([...contextKeys, ...phase.depends_on.map(phaseKey)])];
  const byState = input.stateCounts ?? countStates(progress);
  for (const k of summarised) {
    const p = progress.get(k);
    if (p) stateSummary[k] = { name: input.phasesByKey.get(k)?.name ?? k, state: p.state, attempts: p.attempts };
  }

  const separate = input.separateAgent;
  return {
    schema_version: HANDOFF_SCHEMA_VERSION,
    execution_id: input.executionId,
    plan_name: plan.name,
    from_phase: fromPhase,
    to_phase: phase.id,
    phase_name: phase.name,
    previous_phase_context: previous,
    dependency_contexts: dependencyContexts,
    shared_artifacts: plan.shared_artifacts,
    global_context: plan.global_context,
    state_summary: stateSummary,
    run_summary: { phases: progress.size, by_state: byState },
    execution_instructions: {
      mode: separate ? 'separate_agent' : 'inline',
      workdir: planWorkdir(plan),
      ...(input.workdirMarked ? { workdir_marked: true } : {}),
      ...(config.require_signed_packages === true ? { require_signed: true } : {}),
      ...(config.store ? { store: config.store } : {}),
      base_dir: plan.base_dir ?? null,
      command: phase.command ?? null,
      handler: phase.handler ?? null,
      task_queue: settings.taskQueue,
      save_handoff: config.agent_handoff_enabled,
      on_handoff_failure: config.on_handoff_failure,
      timeout_s: settings.timeoutSeconds,
      retries: settings.retries,
      env: { BATON_RUN_ID: input.executionId, BATON_PHASE: key, ...(input.temporalRunId ? { [BUILT_IN_RUN_ENV]: input.temporalRunId } : {}) },
      report: separate
        ? `Run \`baton execute-phase <this file>\` (or execute_phase_${key}.sh beside it): it verifies the package, runs the phase and reports the result to run ${input.executionId} through the completePhase update. Offline: add --offline --out result.json, then \`baton submit result.json\` from a connected machine.`
        : phase.command
          ? 'Run the command with BATON_HANDOFF set to this file; write {"context": {...}, "artifacts": {"name": "relative/path"}} to BATON_OUTPUT and exit 0. A non-zero exit is a failure.'
          : `Call the handler "${phase.handler}" registered with a Baton worker; its return value is the phase output.`,
    },
    phase_config: phase.config,
    // An agent checks its output against it without reading the run's input; a worker's output is not checked.
    ...(separate && phase.output_schema ? { output_schema: phase.output_schema } : {}),
    safe_keys: plan.safe_keys,
    generation: input.generation,
    attempt: 1,
    depends_on: phase.depends_on,
    created_at: input.now.toISOString(),
    content_hash: null,
    signature: null,
  };
}

function countStates(progress: ReadonlyMap<string, PhaseProgress>): Record<string, number> {
  const byState: Record<string, number> = {};
  for (const p of progress.values()) byState[p.state] = (byState[p.state] ?? 0) + 1;
  return byState;
}

/**
 * The package as it travels from the workflow to an activity: `previous_phase_context` is always
 * `from_phase`'s entry of `dependency_contexts`, so it is left out, rather than recorded in history
 * twice; the activity puts it back with `withPreviousContext` before it seals, saves or runs it.
 */
export function forTransport(pkg: HandoffPackage): HandoffPackage {
  if (pkg.from_phase === null || pkg.previous_phase_context === null) return pkg;
  if (pkg.dependency_contexts[phaseKey(pkg.from_phase)] !== pkg.previous_phase_context) return pkg;
  return { ...pkg, previous_phase_context: null };
}

/** The package an agent or phase reads: `previous_phase_context` filled in again (see `forTransport`). */
export function withPreviousContext(pkg: HandoffPackage): HandoffPackage {
  if (pkg.from_phase === null || pkg.previous_phase_context !== null) return pkg;
  const previous = pkg.dependency_contexts[phaseKey(pkg.from_phase)];
  return previous ? { ...pkg, previous_phase_context: previous } : pkg;
}
