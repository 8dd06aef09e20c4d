/**
 * The handoff package: everything a phase needs to run anywhere, by anyone.
 *
 * Field names follow the guide (snake_case) because agents in any language read these
 * files. Pure module: the workflow builds packages with it.
 */
import { z } from 'zod';
import { PHASE_STATES, PhaseIdSchema } from '../plan/schema.js';

export const HANDOFF_SCHEMA_VERSION = 1;

export { PHASE_STATES };
export const PhaseStateSchema = z.enum(PHASE_STATES);
export type PhaseState = z.infer<typeof PhaseStateSchema>;

/** A file a phase produced, by reference: the bytes stay in the workdir, never in history. */
export const ArtifactRefSchema = z.object({
  /** Relative to the run's workdir. */
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
});
export type ArtifactRef = z.infer<typeof ArtifactRefSchema>;

/**
 * A context value too large to travel inline: stored once under the workdir, content-addressed,
 * so workflow history and packages stay small whatever a phase outputs.
 */
export const ContextRefSchema = z.object({
  $baton_ref: z.object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.number().int().nonnegative(),
    /** Relative to the workdir. */
    path: z.string().min(1),
  }),
});
export type ContextRef = z.infer<typeof ContextRefSchema>;

export function isContextRef(value: unknown): value is ContextRef {
  return ContextRefSchema.safeParse(value).success;
}

/**
 * One value of a phase's context: any JSON, or a reference to a value stored by content. The JSON
 * Schema says an object with a `$baton_ref` member must be a whole reference (the results a run
 * accepts must: agentResultProblem); zod lets anything through here, since packages and status
 * carry what the run accepted.
 */
const { $schema: _draft, ...contextRefJsonSchema } = z.toJSONSchema(ContextRefSchema, { io: 'input' });
const ContextValueSchema = z.unknown().meta({
  description:
    'Any JSON value. A value over 1 KiB may travel by reference instead: {"$baton_ref": {"sha256", "size", "path"}}, a file under the run\'s workdir at "path" (relative to it) holding the value as JSON text in UTF-8, whose bytes have that sha256 (hex) and size.',
  if: { type: 'object', properties: { $baton_ref: true }, required: ['$baton_ref'] },
  then: contextRefJsonSchema,
});

/** What one finished phase hands on to the phases after it. */
export const PhaseContextSchema = z.object({
  context: z.record(z.string(), ContextValueSchema).describe("The phase's output values by name (small ones inline, large ones by reference)."),
  artifacts: z.record(z.string(), ArtifactRefSchema).describe('Files the phase made, by name: path relative to the workdir, sha256 and size of their bytes.'),
});
export type PhaseContext = z.infer<typeof PhaseContextSchema>;

export const ExecutionInstructionsSchema = z.object({
  mode: z.enum(['inline', 'separate_agent']),
  /** Where the phase's files live; relative paths resolve against `base_dir`. */
  workdir: z.string(),
  /**
   * The run marked its workdir before its first phase (`runs/<execution_id>/.opened` in it): a worker
   * that cannot see the mark does not have the run's workdir (an empty or local directory instead).
   */
  workdir_marked: z.boolean().optional(),
  /**
   * The run requires signed packages (its config's `require_signed_packages`): a worker without a
   * signing key leaves the phase to one with a key, and no one runs it unsigned.
   */
  require_signed: z.boolean().optional(),
  /** The run's store (its config's `store`): where every machine finds its files. Absent: BATON_STORE, else the workdir. */
  store: z.string().optional(),
  base_dir: z.string().nullable(),
  command: z.array(z.string()).nullable(),
  handler: z.string().nullable(),
  task_queue: z.string(),
  /** Keep this package under `<workdir>/handoffs/` (the guide's agent_handoff_enabled). */
  save_handoff: z.boolean(),
  /** When the package cannot be sealed or saved: run the phase anyway (`inline`) or fail it. */
  on_handoff_failure: z.enum(['fail', 'inline']),
  timeout_s: z.number().positive(),
  retries: z.number().int().nonnegative(),
  /** Environment the phase's command receives, besides the machine's own. */
  env: z.record(z.string(), z.string()),
  /** How to report back, in words an agent (person or program) can follow. */
  report: z.string(),
});
export type ExecutionInstructions = z.infer<typeof ExecutionInstructionsSchema>;

export const StateSummaryEntrySchema = z.object({
  name: z.string(),
  state: PhaseStateSchema,
  attempts: z.number().int().nonnegative(),
});

export const SIGNATURE_ALGORITHMS = ['hmac-sha256', 'ed25519'] as const;

export const SignatureSchema = z.object({
  alg: z.enum(SIGNATURE_ALGORITHMS),
  /** Names the key, never contains it: a fingerprint or an operator-chosen id. */
  key_id: z.string().min(1).describe('Names the key, never contains it: "hmac:" or "ed25519:" and 16 hex digits derived from the key, or the id set in BATON_HANDOFF_KEY_ID (HMAC). The checker picks its key by this id and alg.'),
  /** base64 of the MAC or signature over the package's `content_hash`. */
  value: z.string().min(1).describe('base64 (standard alphabet, with padding) of the HMAC-SHA256 or Ed25519 signature of the content_hash string\'s UTF-8 bytes ("sha256:<hex>").'),
});
export type Signature = z.infer<typeof SignatureSchema>;

export const HandoffPackageSchema = z.object({
  schema_version: z.literal(HANDOFF_SCHEMA_VERSION),
  execution_id: z.string().min(1),
  plan_name: z.string().min(1),
  from_phase: PhaseIdSchema.nullable(),
  to_phase: PhaseIdSchema,
  phase_name: z.string().min(1),
  previous_phase_context: PhaseContextSchema.nullable(),
  /** Keyed by phase id as a string. */
  dependency_contexts: z.record(z.string(), PhaseContextSchema),
  shared_artifacts: z.record(z.string(), z.string()),
  global_context: z.record(z.string(), z.unknown()),
  /**
   * Phase states when the package was made: every phase's, for plans of up to
   * STATE_SUMMARY_ALL_PHASES phases; for larger plans only the phase's own dependencies'
   * (with every phase's, each package would grow with the plan and history with its square).
   */
  state_summary: z.record(z.string(), StateSummaryEntrySchema),
  /** How many phases are in each state, for the whole run. */
  run_summary: z.object({ phases: z.number().int().nonnegative(), by_state: z.record(z.string(), z.number().int().nonnegative()) }),
  execution_instructions: ExecutionInstructionsSchema,
  phase_config: z.record(z.string(), z.unknown()),
  /**
   * The phase's output_schema (a JSON Schema, draft 2020-12), in packages handed to an agent: the
   * result's output.context must match it. Absent when the phase has none, and from packages for
   * workers (their output is not checked against it), so older workers still read those.
   */
  output_schema: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("In a package for an agent, the phase's output_schema: a JSON Schema (draft 2020-12) the result's output.context must match (values stored by reference checked in full). Absent when the phase has none."),
  /** Keys the plan marks as not secret, for the secret scan. */
  safe_keys: z.array(z.string()),
  /** Counts the times the workflow has handed this phase out (a retryPhase makes a new generation). */
  generation: z.number().int().positive(),
  /** Temporal's attempt at running this generation; stamped by the worker that writes the package. */
  attempt: z.number().int().positive(),
  /** The phase's declared dependencies, so a package can be checked on its own. */
  depends_on: z.array(PhaseIdSchema),
  created_at: z.iso.datetime({ offset: true }),
  /** `sha256:<hex>` of the canonical JSON of every other field; null until a worker seals the package. */
  content_hash: z.string().regex(/^sha256:[0-9a-f]{64}$/).nullable(),
  signature: SignatureSchema.nullable(),
})
  // Strict: the hash covers every field, so a field this version does not know must be refused, not dropped.
  .strict();
export type HandoffPackage = z.infer<typeof HandoffPackageSchema>;

/** What a phase reports when it finishes, inline or from an agent. */
export const PhaseOutputFileSchema = z.object({
  context: z.record(z.string(), z.unknown()).default({}),
  /** name -> path relative to the workdir. */
  artifacts: z.record(z.string(), z.string()).default({}),
});
export type PhaseOutputFile = z.infer<typeof PhaseOutputFileSchema>;
