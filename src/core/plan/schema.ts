/**
 * The plan and orchestrator config: the two documents a user writes.
 *
 * Pure module (zod only), imported by the workflow, the CLI and the tests alike,
 * so the rules a plan must follow are written down exactly once.
 */
import { z } from 'zod';

/** Phase ids are integers, as in the guide, or strings. JSON object keys always use `String(id)`. */
export const PhaseIdSchema = z.union([
  z.number().int().nonnegative(),
  // Ids name files (handoffs/phase_<id>.json) and appear in scripts, so they are plain words:
  // no path separators, no shell metacharacters.
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a phase id is a number, or letters, digits, ".", "_" and "-" (it names files and scripts)'),
]);
export type PhaseId = z.infer<typeof PhaseIdSchema>;

const resourceClassName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'a resource class is lower-case letters, digits, "-" and "_" (it becomes the task queue baton-<class>)');

export const PhaseSchema = z.object({
  id: PhaseIdSchema,
  name: z.string().min(1),
  description: z.string().optional(),
  depends_on: z.array(PhaseIdSchema).default([]),
  resource_class: resourceClassName.default('default'),
  /** argv, run without a shell so no plan or package data is ever interpolated into one. */
  command: z.array(z.string()).min(1).optional(),
  /** Name of a TypeScript function registered with the worker. */
  handler: z.string().min(1).optional(),
  config: z.record(z.string(), z.unknown()).default({}),
  timeout_s: z.number().positive().optional(),
  retries: z.number().int().nonnegative().optional(),
  use_separate_agent: z.boolean().default(false),
  /** Include transitive dependencies' outputs in `dependency_contexts`, not only direct ones. */
  transitive_context: z.boolean().default(false),
  /** How long an external agent has to report (overrides the config's agent_timeout_s). */
  agent_timeout_s: z.number().positive().optional(),
  /** When no agent reports in time: a worker runs the phase (`inline`), or the phase fails and holds (`fail`). */
  on_agent_timeout: z.enum(['inline', 'fail']).optional(),
  /** Rollback: argv run when the phase is abandoned (skipped after failing, or in flight or failed when the run is aborted). */
  compensate: z.array(z.string()).min(1).optional(),
  /** JSON Schema that an agent's reported `context` must match. */
  output_schema: z.record(z.string(), z.unknown()).optional(),
});
export type Phase = z.infer<typeof PhaseSchema>;
export type PhaseInput = z.input<typeof PhaseSchema>;

export const PlanSchema = z.object({
  name: z.string().min(1),
  /** Where handoffs, logs, outputs and artifacts of the run live; relative paths resolve against `base_dir`. */
  workdir: z.string().min(1).optional(),
  /** Directory that relative commands and the workdir resolve against (the plan file's directory when launched by `baton run`). */
  base_dir: z.string().min(1).optional(),
  global_context: z.record(z.string(), z.unknown()).default({}),
  shared_artifacts: z.record(z.string(), z.string()).default({}),
  /** Key names or paths (`global_context.token_budget`) the secret scan should not flag. */
  safe_keys: z.array(z.string()).default([]),
  /** false: start no phase until it is requested (the executePhase update), as in the guide's step-by-step use. */
  auto_advance: z.boolean().default(true),
  phases: z.array(PhaseSchema),
});
export type Plan = z.infer<typeof PlanSchema>;
export type PlanInput = z.input<typeof PlanSchema>;

export const ResourceClassSchema = z.object({
  /** How many phases of this class one worker runs at once. */
  concurrency: z.number().int().positive().default(4),
  /** Defaults for phases of this class that do not set their own. */
  timeout_s: z.number().positive().optional(),
  retries: z.number().int().nonnegative().optional(),
});
export type ResourceClass = z.infer<typeof ResourceClassSchema>;

export const BUILT_IN_RESOURCE_CLASSES: Record<string, ResourceClass> = {
  default: { concurrency: 4 },
  gpu: { concurrency: 1 },
};

export const OrchestratorConfigSchema = z.object({
  /** The guide's mode 1: write every phase's package to `<workdir>/handoffs/`. */
  agent_handoff_enabled: z.boolean().default(true),
  /** The guide's mode 2: hand every phase to an external agent and wait for its result. */
  use_separate_agents: z.boolean().default(false),
  // Temporal refuses more than 2,000 pending activities per workflow; refusing here says so up front.
  max_parallel_phases: z.number().int().positive().max(2000, 'max_parallel_phases is at most 2000 (Temporal allows 2,000 pending activities per workflow)').default(4),
  /** `hold` keeps the run open for an operator to retry or skip a failed phase; `fail` ends it. */
  failed_phase_policy: z.enum(['hold', 'fail']).default('hold'),
  on_handoff_failure: z.enum(['fail', 'inline']).default('inline'),
  resource_classes: z.record(resourceClassName, ResourceClassSchema).default(BUILT_IN_RESOURCE_CLASSES),
  /** How long an external agent has to report a phase's result (default: 7 days). */
  agent_timeout_s: z.number().positive().default(7 * 24 * 3600),
  on_agent_timeout: z.enum(['inline', 'fail']).default('fail'),
  /** Accept agents' results that carry no signature (for setups without a handoff key). */
  accept_unsigned_results: z.boolean().default(false),
  /** A phase's worker must heartbeat this often; a dead worker is noticed after this long. */
  heartbeat_timeout_s: z.number().positive().default(30),
  /** Times a phase whose worker died is sent to another worker before it counts as failed. */
  worker_loss_retries: z.number().int().nonnegative().default(3),
  /** Phase defaults when neither the phase nor its class sets them. */
  default_timeout_s: z.number().positive().default(3600),
  default_retries: z.number().int().nonnegative().default(0),
  /**
   * Continue as new after this many phases finish in one segment of the run, besides whenever
   * Temporal suggests it (history of about 4,000 events or 4 MB). For tuning and tests.
   */
  continue_as_new_after_phases: z.number().int().positive().optional(),
});
export type OrchestratorConfig = z.infer<typeof OrchestratorConfigSchema>;
export type OrchestratorConfigInput = z.input<typeof OrchestratorConfigSchema>;

/** A phase's states, shared by the package, the status and the state a run carries when it continues as new. */
export const PHASE_STATES = ['pending', 'ready', 'running', 'awaiting_agent', 'completed', 'failed', 'skipped'] as const;

export const ORCHESTRATOR_TASK_QUEUE = 'baton';
export const WORKFLOW_TYPE = 'phasedRun';

export function taskQueueFor(resourceClass: string): string {
  return `baton-${resourceClass}`;
}

export function phaseKey(id: PhaseId): string {
  return String(id);
}
