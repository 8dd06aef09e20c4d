/**
 * What an external agent reports for a phase: the output, bound to the run, the phase, the
 * generation and attempt, and the exact package it ran from (by hash); who ran it, where and
 * when; sealed and signed like a package. Pure: the workflow's update validator parses it.
 *
 * The contract for agents in any language: schema/agent-result.schema.json (generated from this)
 * and docs/agent-contract.md.
 */
import { z } from 'zod';
import { PhaseIdSchema } from '../plan/schema.js';
import { PhaseContextSchema, SignatureSchema } from './schema.js';

export const RESULT_SCHEMA_VERSION = 1;
const sha256Ref = z.string().regex(/^sha256:[0-9a-f]{64}$/);
const ISO_RULE = 'must be an ISO 8601 date and time with its offset, such as "2026-11-30T12:00:00Z"';
/**
 * A time the run records and computes with: RFC 3339 (what JSON Schema's date-time format means;
 * Baton writes UTC with a Z, another agent's offset is as good), and one a Date can hold (not
 * "yesterday", not February 31st).
 */
const timestamp = z.iso.datetime({ offset: true, error: ISO_RULE, abort: true }).refine((s) => !Number.isNaN(Date.parse(s)), { error: ISO_RULE });

export const ProvenanceSchema = z.object({
  host: z.string().describe('The machine the agent ran on.'),
  user: z.string().describe('The user it ran as.'),
  /** BATON_AGENT_NAME where the agent ran, e.g. "claude-code" or "alice". */
  agent: z.string().nullable().describe('The agent\'s name (BATON_AGENT_NAME for `baton execute-phase`), e.g. "claude-code"; null when it has none.'),
  /** `online`: reported at once; `offline`: written to a file and submitted later. */
  mode: z.enum(['online', 'offline']).describe('online: reported when the work was done; offline: written to a file and submitted later.'),
  started_at: timestamp.describe('When the agent started the work (RFC 3339).'),
  finished_at: timestamp.describe('When it finished (RFC 3339).'),
});
export type Provenance = z.infer<typeof ProvenanceSchema>;

export const AgentResultSchema = z
  .object({
    schema_version: z.literal(RESULT_SCHEMA_VERSION),
    execution_id: z.string().min(1).describe("The run: the package's execution_id."),
    phase: PhaseIdSchema.describe("The phase: the package's to_phase."),
    generation: z.number().int().positive().describe("The package's generation."),
    attempt: z.number().int().positive().describe("The package's attempt."),
    /** content_hash of the package the agent ran. */
    package_hash: sha256Ref.describe("The package's content_hash: the result is for that package and no other."),
    outcome: z.enum(['completed', 'failed']),
    output: PhaseContextSchema.nullable().describe('What the phase hands on (required when completed): context values (each matching the package\'s output_schema, if any) and artifacts by reference. Not what a command writes to BATON_OUTPUT (phase-output.schema.json): artifacts here carry their sha256 and size.'),
    error: z.string().nullable().describe('What went wrong (required when failed).'),
    provenance: ProvenanceSchema,
    content_hash: sha256Ref.nullable().describe('"sha256:" and the hex sha256 of the RFC 8785 canonical JSON (UTF-8) of every other field but signature (docs/agent-contract.md).'),
    signature: SignatureSchema.nullable().describe('HMAC-SHA256 or Ed25519 over the content_hash string; a run refuses an unsigned result unless its config sets accept_unsigned_results.'),
  })
  .strict();
export type AgentResult = z.infer<typeof AgentResultSchema>;
