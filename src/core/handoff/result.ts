/**
 * What an external agent reports for a phase: the output, bound to the run, the phase, the
 * generation and attempt, and the exact package it ran from (by hash); who ran it, where and
 * when; sealed and signed like a package. Pure: the workflow's update validator parses it.
 */
import { z } from 'zod';
import { PhaseIdSchema } from '../plan/schema.js';
import { PhaseContextSchema, SignatureSchema } from './schema.js';

export const RESULT_SCHEMA_VERSION = 1;
const sha256Ref = z.string().regex(/^sha256:[0-9a-f]{64}$/);

const ISO_RULE = 'must be an ISO 8601 date and time with its offset, such as "2026-11-30T12:00:00Z"';
/** A time the run records and computes with: ISO 8601, and one a Date can hold (not "yesterday", not February 31st). */
const timestamp = z.iso.datetime({ offset: true, error: ISO_RULE, abort: true }).refine((s) => !Number.isNaN(Date.parse(s)), { error: ISO_RULE });

export const ProvenanceSchema = z.object({
  host: z.string(),
  user: z.string(),
  /** BATON_AGENT_NAME where the agent ran, e.g. "claude-code" or "alice". */
  agent: z.string().nullable(),
  /** `online`: reported at once; `offline`: written to a file and submitted later. */
  mode: z.enum(['online', 'offline']),
  started_at: timestamp,
  finished_at: timestamp,
});
export type Provenance = z.infer<typeof ProvenanceSchema>;

export const AgentResultSchema = z
  .object({
    schema_version: z.literal(RESULT_SCHEMA_VERSION),
    execution_id: z.string().min(1),
    phase: PhaseIdSchema,
    generation: z.number().int().positive(),
    attempt: z.number().int().positive(),
    /** content_hash of the package the agent ran. */
    package_hash: sha256Ref,
    outcome: z.enum(['completed', 'failed']),
    output: PhaseContextSchema.nullable(),
    error: z.string().nullable(),
    provenance: ProvenanceSchema,
    content_hash: sha256Ref.nullable(),
    signature: SignatureSchema.nullable(),
  })
  .strict();
export type AgentResult = z.infer<typeof AgentResultSchema>;
