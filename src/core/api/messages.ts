/**
 * The payloads operators and agents send to a run, one zod schema each: the workflow checks every
 * message against these (they arrive as raw JSON from the Web UI's dialogs, `temporal workflow
 * signal|update`, scripts and other SDKs), the client's types are inferred from them, and the JSON
 * Schemas in `schema/` are generated from them for people and programs in any language.
 */
import { z } from 'zod';
import { ruleFor, schemaProblems } from '../plan/schema-problems.js';
import { PhaseIdSchema } from '../plan/schema.js';
import { AgentResultSchema } from '../handoff/result.js';
import { PhaseOutputFileSchema } from '../handoff/schema.js';
import { excerpt, LIMITS } from './limits.js';
import { payloadProblem, requestRangeProblem } from './message-bounds.js';
import { PhaseStatusSchema } from './status.js';

const phase = PhaseIdSchema.describe('The phase, by its id in the plan (a number or a string).');

export const RetryPhaseRequestSchema = z.strictObject({
  phase,
  downstream: z.boolean().optional().describe('Also run again every phase that depends on this one.'),
  refresh: z.boolean().optional().describe("Take the dependencies' files as they are now, instead of the hashes recorded when they ran."),
  resource_class: z.string().min(1).optional().describe('From now on, run the phase on this resource class (declared in the config).'),
  timeout_s: z.number().positive().optional().describe('From now on, this timeout per attempt, in seconds: from 1 to 2,592,000 (30 days).'),
  retries: z.number().int().nonnegative().optional().describe('From now on, this many retries: at most 100.'),
  config: z.record(z.string(), z.unknown()).optional().describe("Merged into the phase's config (its package's phase_config) from now on."),
});
export type RetryPhaseRequest = z.infer<typeof RetryPhaseRequestSchema>;

export const SkipPhaseRequestSchema = z.strictObject({ phase });
export type SkipPhaseRequest = z.infer<typeof SkipPhaseRequestSchema>;

export const AgentProgressSchema = z.strictObject({
  phase,
  message: z.string().describe('What the agent is doing now: at most 1,000 characters.'),
  percent: z.number().min(0).max(100).optional().describe('How far along, 0 to 100, when the agent knows.'),
});
export type AgentProgress = z.infer<typeof AgentProgressSchema>;

export const ExecutePhaseRequestSchema = z.strictObject({
  phase,
  use_separate_agent: z.boolean().optional().describe('Hand the phase to an external agent (true) or a worker (false); default: as the plan and config say.'),
});
export type ExecutePhaseRequest = z.infer<typeof ExecutePhaseRequestSchema>;

export const PhaseInterruptedSchema = z.strictObject({
  phase,
  generation: z.number().int().positive(),
  /** The attempt now starting, after an interrupted one. */
  attempt: z.number().int().positive(),
  reason: z.string().max(500).describe('What interrupted the attempt before it, in a few words.'),
  interruptions: z.number().int().nonnegative().describe('Attempts of this generation interrupted so far.'),
});
export type PhaseInterrupted = z.infer<typeof PhaseInterruptedSchema>;

export const MarkPhaseDoneRequestSchema = z.strictObject({
  phase,
  output: PhaseOutputFileSchema.strict().describe(
    'The output the phase would have written to BATON_OUTPUT: {"context": {...}, "artifacts": {"name": "path relative to the workdir"}}; checked against the phase\'s output_schema.',
  ),
  by: z.string().min(1).optional().describe('Who marks it done (recorded in its provenance); `baton mark-done` sends user@host.'),
  reason: z.string().optional().describe('Why, in a line (recorded in its provenance): at most 1,000 characters.'),
});
export type MarkPhaseDoneRequest = z.infer<typeof MarkPhaseDoneRequestSchema>;

export const HandPhaseRequestSchema = z.strictObject({
  phase,
  to: z.enum(['agent', 'worker']).describe('"agent": an external agent runs it from its package (completePhase reports it); "worker": a worker of its resource class runs it.'),
});
export type HandPhaseRequest = z.infer<typeof HandPhaseRequestSchema>;

/** What an accepted operation (the updates pause, resume, retryPhase, skipPhase, markPhaseDone, handPhase) answers. */
export const OperationResponseSchema = z.object({
  message: z.string().describe('What the run did, in a sentence.'),
  run_state: z.string().describe("The run's state after it: running, paused, held, …"),
  phase: z
    .object({ id: PhaseIdSchema, state: z.string(), generation: z.number().int().nonnegative(), attempts: z.number().int().nonnegative() })
    .optional()
    .describe('The phase the operation was about, as it stands after it.'),
});
export type OperationResponse = z.infer<typeof OperationResponseSchema>;

/** completePhase's input is an agent's result: see src/core/handoff/result.ts. */
export const CompletePhaseRequestSchema = AgentResultSchema;

export const CompletePhaseResponseSchema = z.object({
  accepted: z.literal(true),
  phase: PhaseStatusSchema,
});
export type CompletePhaseResponse = z.infer<typeof CompletePhaseResponseSchema>;

// Claims on phases awaiting an agent (the agent inbox: see workflows/claims.ts).

/** A lease's length when a claim names none, and the longest one: an agent renews it by heartbeat. */
export const LEASE_S = { default: 300, max: 86_400 } as const;
const leaseS = z
  .number()
  .min(1)
  .max(LEASE_S.max)
  .describe(`How long the claim lasts without a heartbeat, in seconds: 1 to 86,400 (default ${LEASE_S.default}). When it ends, the phase returns to the inbox.`);
const leaseId = z.string().min(1).max(100).describe('The lease claimPhase returned.');

export const ClaimPhaseRequestSchema = z.strictObject({
  phase,
  agent: z.string().min(1).max(200).describe("Who claims: results are then taken only from this agent (a result's provenance.agent, or user@host when it names none)."),
  labels: z.array(z.string().min(1).max(100)).max(64).optional().describe('What the agent has: a phase whose plan lists `"agent": {"labels": [...]}` is claimed only by an agent with each of them.'),
  lease_s: leaseS.optional(),
});
export type ClaimPhaseRequest = z.infer<typeof ClaimPhaseRequestSchema>;

export const ClaimPhaseResponseSchema = z.object({
  lease_id: z.string(),
  run: z.string().describe('The run (workflow id).'),
  phase: PhaseIdSchema,
  agent: z.string(),
  generation: z.number().int().positive(),
  attempt: z.number().int().positive(),
  since: z.string(),
  expires_at: z.string().describe('When the lease ends unless renewed (heartbeatClaim), ISO 8601 UTC.'),
  lease_s: z.number().positive(),
  package_hash: z.string(),
  handoff_path: z.string().describe('The package to run: `baton execute-phase <handoff_path>`.'),
  script_path: z.string(),
});
export type ClaimPhaseResponse = z.infer<typeof ClaimPhaseResponseSchema>;

export const HeartbeatClaimRequestSchema = z.strictObject({ phase, lease_id: leaseId, lease_s: leaseS.optional() });
export type HeartbeatClaimRequest = z.infer<typeof HeartbeatClaimRequestSchema>;

export const HeartbeatClaimResponseSchema = z.object({ phase: PhaseIdSchema, lease_id: z.string(), expires_at: z.string() });
export type HeartbeatClaimResponse = z.infer<typeof HeartbeatClaimResponseSchema>;

export const ReleaseClaimRequestSchema = z.strictObject({ phase, lease_id: leaseId });
export type ReleaseClaimRequest = z.infer<typeof ReleaseClaimRequestSchema>;

export const ReleaseClaimResponseSchema = z.object({ phase: PhaseIdSchema, released: z.literal(true) });
export type ReleaseClaimResponse = z.infer<typeof ReleaseClaimResponseSchema>;

/**
 * Each message with its schema and the shape users type, for refusals that show what was
 * expected. Signals take no reply, so a bad one becomes a notice in the status; updates refuse.
 */
export const MESSAGES = {
  retryPhase: {
    schema: RetryPhaseRequestSchema,
    shape: '{"phase": <id>, "downstream"?: bool, "refresh"?: bool, "resource_class"?: "...", "timeout_s"?: n, "retries"?: n, "config"?: {...}}',
  },
  skipPhase: { schema: SkipPhaseRequestSchema, shape: '{"phase": <id>}' },
  agentProgress: { schema: AgentProgressSchema, shape: '{"phase": <id>, "message": "...", "percent"?: 0-100}' },
  executePhase: { schema: ExecutePhaseRequestSchema, shape: '{"phase": <id>, "use_separate_agent"?: bool}' },
  markPhaseDone: {
    schema: MarkPhaseDoneRequestSchema,
    shape: '{"phase": <id>, "output": {"context": {...}, "artifacts": {"name": "relative/path"}}, "by"?: "...", "reason"?: "..."}',
  },
  handPhase: { schema: HandPhaseRequestSchema, shape: '{"phase": <id>, "to": "agent" | "worker"}' },
  claimPhase: { schema: ClaimPhaseRequestSchema, shape: '{"phase": <id>, "agent": "...", "labels"?: ["..."], "lease_s"?: 1-86400}' },
  heartbeatClaim: { schema: HeartbeatClaimRequestSchema, shape: '{"phase": <id>, "lease_id": "...", "lease_s"?: 1-86400}' },
  releaseClaim: { schema: ReleaseClaimRequestSchema, shape: '{"phase": <id>, "lease_id": "..."}' },
  phaseInterrupted: { schema: PhaseInterruptedSchema, shape: '{"phase": <id>, "generation": n, "attempt": n, "reason": "...", "interruptions": n} (sent by Baton\'s workers)' },
} as const;
export type MessageName = keyof typeof MESSAGES;
/** A message as its schema takes it. */
export type MessageValue<N extends MessageName> = z.infer<(typeof MESSAGES)[N]['schema']>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Checks a message against its schema and, with `bounds` (the default), against Baton's limits
 * (its size and nesting first, its fields' ranges after: see message-bounds.ts); a refusal names
 * the message, each problem and what came (the start of it, when long), in the words a plan's
 * problems use: the field, what it must be, what came instead; an unknown key with the one
 * probably meant.
 */
export function parseMessage<N extends MessageName>(name: N, raw: unknown, opts: { bounds?: boolean } = {}): Parsed<MessageValue<N>> {
  const { schema, shape } = MESSAGES[name];
  const bounds = opts.bounds !== false;
  // An operator's output may be as large as an agent's result; every other message, a signal's size.
  const maxBytes = name === 'markPhaseDone' ? LIMITS.resultBytes : LIMITS.messageBytes;
  const tooBig = bounds ? payloadProblem(raw, maxBytes) : undefined;
  if (tooBig) return { ok: false, error: `${name}: ${tooBig}; expected ${shape}, got ${excerpt(raw)}` };
  const checked = checkAgainst(schema, raw);
  if (checked.ok) {
    const outOfRange = bounds ? requestRangeProblem(name, checked.value as Record<string, unknown>) : undefined;
    if (outOfRange) return { ok: false, error: `${name}: ${outOfRange}` };
    return checked as Parsed<MessageValue<N>>;
  }
  return { ok: false, error: `${name}: ${checked.error}; expected ${shape}, got ${excerpt(raw)}` };
}

/** A value checked against a schema, with every problem in words when it does not fit. */
export function checkAgainst<T>(schema: z.ZodType<T>, raw: unknown): Parsed<T> {
  const parsed = schema.safeParse(raw, { error: ruleFor });
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, error: schemaProblems(parsed.error, { name: '', raw, schema, hasPhases: false }).join('; ') };
}
