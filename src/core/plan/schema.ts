/**
 * The plan and orchestrator config: the two documents a user writes.
 *
 * Pure module (zod only), imported by the workflow, the CLI and the tests alike,
 * so the rules a plan must follow are written down exactly once.
 */
import { z } from 'zod';

/**
 * How a plan or config treats keys its schema does not know. `refuse` (the default): each one
 * is a problem, with the key probably meant. `ignore`: the rules as they were before unknown keys
 * were refused, kept exactly so runs recorded then replay the same: unknown keys are dropped
 * and every phase must have a `name`.
 */
export type UnknownKeys = 'refuse' | 'ignore';

// Each rule says what a field must be in words a user can act on (zod's `error` param covers the
// type check and every check after it); validate.ts adds where it is and what was written instead.
const ID_RULE = 'must be a whole number ≥ 0, or a word of letters, digits, ".", "_" and "-" (ids name files and scripts)';

function wholeNumber(min: 0 | 1, rule = `must be a whole number ≥ ${min}`): z.ZodNumber {
  return z.number({ error: rule }).int({ error: rule }).min(min, { error: rule });
}

function seconds(): z.ZodNumber {
  const rule = 'must be a number of seconds > 0';
  return z.number({ error: rule }).positive({ error: rule });
}

function text(): z.ZodString {
  const rule = 'must be a non-empty string';
  return z.string({ error: rule }).min(1, { error: rule });
}

function argv(): z.ZodArray<z.ZodString> {
  const rule = 'must be a non-empty list of strings: an argv, run without a shell';
  return z.array(z.string({ error: 'must be a string' }), { error: rule }).min(1, { error: rule });
}

/** Phase ids are integers, as in the guide, or strings. JSON object keys always use `String(id)`. */
export const PhaseIdSchema = z.union(
  [
    wholeNumber(0, ID_RULE),
    // Ids name files (handoffs/phase_<id>.json) and appear in scripts, so they are plain words:
    // no path separators, no shell metacharacters.
    z.string({ error: ID_RULE }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, { error: ID_RULE }),
  ],
  { error: ID_RULE },
);
export type PhaseId = z.infer<typeof PhaseIdSchema>;

export const ResourceClassNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'must be lower-case letters, digits, "-" and "_" (a resource class becomes the task queue baton-<class>)' });

/** Every phase field but `name`, whose rule depends on UnknownKeys. */
const phaseFields = {
  description: z.string().optional(),
  depends_on: z.array(PhaseIdSchema, { error: 'must be a list of phase ids' }).default([]),
  resource_class: ResourceClassNameSchema.default('default'),
  /** argv, run without a shell so no plan or package data is ever interpolated into one. */
  command: argv().optional(),
  /** Name of a TypeScript function registered with the worker. */
  handler: text().optional(),
  config: z.record(z.string(), z.unknown()).default({}),
  timeout_s: seconds().optional(),
  retries: wholeNumber(0).optional(),
  use_separate_agent: z.boolean().default(false),
  /** Include transitive dependencies' outputs in `dependency_contexts`, not only direct ones. */
  transitive_context: z.boolean().default(false),
  /** How long an external agent has to report (overrides the config's agent_timeout_s). */
  agent_timeout_s: seconds().optional(),
  /** When no agent reports in time: a worker runs the phase (`inline`), or the phase fails and holds (`fail`). */
  on_agent_timeout: z.enum(['inline', 'fail']).optional(),
  /** Rollback: argv run when the phase is abandoned (skipped after failing, or in flight or failed when the run is aborted). */
  compensate: argv().optional(),
  /** JSON Schema that an agent's reported `context` must match. */
  output_schema: z.record(z.string(), z.unknown()).optional(),
  /** What an agent must have to claim the phase (claimPhase): every label listed. */
  agent: z.strictObject({ labels: z.array(text(), { error: 'must be a list of labels (strings)' }).default([]) }).optional(),
};

/** A phase as it was before unknown keys were refused: `name` required, unknown keys dropped. */
const LegacyPhaseSchema = z.object({ id: PhaseIdSchema, name: text(), ...phaseFields });

/** A checked phase. Its `name` is always there: a phase that does not set one is named by its id. */
export type Phase = z.infer<typeof LegacyPhaseSchema>;

export const PhaseSchema = z
  .strictObject({ id: PhaseIdSchema, name: text().optional(), ...phaseFields })
  .transform((phase): Phase => {
    if (phase.name !== undefined) return { ...phase, name: phase.name };
    // Built in the schema's order (id, name, ...), as a phase that sets its name parses.
    const { id, ...rest } = phase;
    return { id, name: String(id), ...rest };
  });
export type PhaseInput = z.input<typeof PhaseSchema>;

function planFields<P extends z.ZodType<Phase>>(phase: P) {
  return {
    name: text(),
    /** Where handoffs, logs, outputs and artifacts of the run live; relative paths resolve against `base_dir`. */
    workdir: text().optional(),
    /** Directory that relative commands and the workdir resolve against (the plan file's directory when launched by `baton run`). */
    base_dir: text().optional(),
    global_context: z.record(z.string(), z.unknown()).default({}),
    shared_artifacts: z.record(z.string(), z.string({ error: 'must be a path (a string)' })).default({}),
    /** Key names or paths (`global_context.token_budget`) the secret scan should not flag. */
    safe_keys: z.array(z.string()).default([]),
    /** false: start no phase until it is requested (the executePhase update), as in the guide's step-by-step use. */
    auto_advance: z.boolean().default(true),
    phases: z.array(phase, { error: 'must be a list of phases' }),
  };
}

export const PlanSchema = z.strictObject(planFields(PhaseSchema));
export type Plan = z.infer<typeof PlanSchema>;
export type PlanInput = z.input<typeof PlanSchema>;

const resourceClassFields = {
  /** How many phases of this class one worker runs at once. */
  concurrency: wholeNumber(1).default(4),
  /** Defaults for phases of this class that do not set their own. */
  timeout_s: seconds().optional(),
  retries: wholeNumber(0).optional(),
};
export const ResourceClassSchema = z.strictObject(resourceClassFields);
export type ResourceClass = z.infer<typeof ResourceClassSchema>;

export const BUILT_IN_RESOURCE_CLASSES: Record<string, ResourceClass> = {
  default: { concurrency: 4 },
  gpu: { concurrency: 1 },
};

// Temporal refuses more than 2,000 pending activities per workflow; refusing here says so up front.
const MAX_PARALLEL_RULE = 'must be a whole number from 1 to 2000 (Temporal allows 2,000 pending activities per workflow)';

function configFields<C extends z.ZodType<ResourceClass>>(resourceClass: C) {
  return {
    /** The guide's mode 1: write every phase's package to `<workdir>/runs/<execution_id>/handoffs/`. */
    agent_handoff_enabled: z.boolean().default(true),
    /** The guide's mode 2: hand every phase to an external agent and wait for its result. */
    use_separate_agents: z.boolean().default(false),
    max_parallel_phases: wholeNumber(1, MAX_PARALLEL_RULE).max(2000, { error: MAX_PARALLEL_RULE }).default(4),
    /** `hold` keeps the run open for an operator to retry or skip a failed phase; `fail` ends it. */
    failed_phase_policy: z.enum(['hold', 'fail']).default('hold'),
    on_handoff_failure: z.enum(['fail', 'inline']).default('inline'),
    resource_classes: z.record(ResourceClassNameSchema, resourceClass).default(BUILT_IN_RESOURCE_CLASSES as Record<string, z.output<C>>),
    /** How long an external agent has to report a phase's result (default: 7 days). */
    agent_timeout_s: seconds().default(7 * 24 * 3600),
    on_agent_timeout: z.enum(['inline', 'fail']).default('fail'),
    /** Accept agents' results that carry no signature (for setups without a handoff key). */
    accept_unsigned_results: z.boolean().default(false),
    /**
     * Every package must be signed: a worker without a signing key refuses the phase (WorkerCannotRun)
     * and one with a key takes it, and no package of the run is run unsigned, even by hand. Default false.
     */
    require_signed_packages: z.boolean().optional(),
    /** A phase's worker must heartbeat this often; a dead worker is noticed after this long. */
    heartbeat_timeout_s: seconds().default(30),
    /** Times a phase whose worker died is sent to another worker before it counts as failed. */
    worker_loss_retries: wholeNumber(0).default(3),
    /** Phase defaults when neither the phase nor its class sets them. */
    default_timeout_s: seconds().default(3600),
    default_retries: wholeNumber(0).default(0),
    /**
     * Continue as new after this many phases finish in one segment of the run, besides whenever
     * Temporal suggests it (history of about 4,000 events or 4 MB). For tuning and tests.
     */
    continue_as_new_after_phases: wholeNumber(1).optional(),
    /**
     * Where `baton ui` serves (its address, as `baton ui` prints it): the run's current details in
     * the Temporal Web UI link to the run's page there. `baton run` fills it from BATON_UI_URL.
     */
    /**
     * Where the run's files live (s3://bucket/prefix, or an absolute directory), for every machine of
     * the run: it goes in each package, and the orchestrator worker uses it too. Unset: BATON_STORE on
     * each machine, else the workdir. Credentials always come from each machine's environment.
     */
    store: z
      .string()
      .max(1000)
      .regex(/^(s3:\/\/[A-Za-z0-9][A-Za-z0-9._-]{1,62}(\/[^?#]*)?|file:\/\/\/.+|\/.+)$/, {
        error: 'must be s3://bucket/prefix or an absolute directory (/srv/baton-store): every machine reads it the same way',
      })
      .optional(),
    baton_ui_url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// address, as `baton ui` prints it' })
      .max(2000)
      .optional(),
  };
}

export const OrchestratorConfigSchema = z.strictObject(configFields(ResourceClassSchema));
export type OrchestratorConfig = z.infer<typeof OrchestratorConfigSchema>;
export type OrchestratorConfigInput = z.input<typeof OrchestratorConfigSchema>;

export interface PlanSchemas {
  plan: z.ZodType<Plan, PlanInput>;
  config: z.ZodType<OrchestratorConfig, OrchestratorConfigInput>;
}

const SCHEMAS: Record<UnknownKeys, PlanSchemas> = {
  refuse: { plan: PlanSchema, config: OrchestratorConfigSchema },
  ignore: {
    plan: z.object(planFields(LegacyPhaseSchema)),
    config: z.object(configFields(z.object(resourceClassFields))),
  },
};

/** The plan and config schemas for a way of treating unknown keys (see UnknownKeys). */
export function planSchemas(unknownKeys: UnknownKeys = 'refuse'): PlanSchemas {
  return SCHEMAS[unknownKeys];
}

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
