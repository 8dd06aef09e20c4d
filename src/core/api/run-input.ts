/**
 * The input of `phasedRun`: plain JSON, so `temporal workflow start --input-file run.json` works.
 * Besides the plan and config, it may carry what `baton run --resume-from` reuses, and, when a
 * run continues as new, the state it carries over (written by the run itself, never by hand).
 */
import { z } from 'zod';
import { PhaseContextSchema } from '../handoff/schema.js';
import { OrchestratorConfigSchema, PlanSchema } from '../plan/schema.js';
import { PhaseStatusSchema, ResetSchema } from './status.js';

/** Outputs of an earlier run's completed phases, for `baton run --resume-from`; checked by the client. */
export const ResumeSchema = z.object({
  from_run: z.string().min(1),
  phases: z.record(
    z.string(),
    z.object({
      context: z.record(z.string(), z.unknown()),
      artifacts: z.record(z.string(), z.object({ path: z.string(), sha256: z.string(), size: z.number() })),
      executed_by: z.string().optional(),
      started_at: z.string().nullable().optional(),
      finished_at: z.string().nullable().optional(),
      content_hash: z.string().optional(),
    }),
  ),
});
export type Resume = z.infer<typeof ResumeSchema>;

/** What the run keeps about a phase: its status, plus what only the run itself needs. */
export const PhaseRecordSchema = PhaseStatusSchema.extend({
  /** With auto_advance off, a phase starts only once requested. */
  requested: z.boolean(),
  /** Activities dispatched for the current generation (more than one when a worker was lost). */
  dispatches: z.number().int().nonnegative(),
  /** The phase's output, whole (the status's `context` is the same value). */
  output: PhaseContextSchema.optional(),
  /** Position in the order phases completed; decides which dependency is a package's `from_phase`. */
  completedSeq: z.number().int().nonnegative().optional(),
});
export type PhaseRecord = z.infer<typeof PhaseRecordSchema>;

/** A finished phase whose details went to an archive file: [key, state, attempts, generation, completion order]. */
export const ArchivedPhaseSchema = z.tuple([z.string(), z.enum(['completed', 'skipped']), z.number().int(), z.number().int(), z.number().int().nullable()]);
export type ArchivedPhase = z.infer<typeof ArchivedPhaseSchema>;

/**
 * What a run carries into the run it continues as: the state of every phase, small enough for
 * Temporal's 2 MiB input limit at 10,000 phases because finished phases travel as tuples and
 * their details stay in archive files under the workdir.
 */
export const ContinuedSchema = z.object({
  /** How many times the run has continued as new. */
  segment: z.number().int().positive(),
  started_at: z.iso.datetime({ offset: true }),
  paused: z.boolean(),
  notices: z.array(z.string()),
  completed_count: z.number().int().nonnegative(),
  compensations_due: z.array(z.string()),
  refresh_due: z.array(z.string()),
  /** Phases the run still works on, or whose outputs it may still hand on: their whole record. */
  phases: z.record(z.string(), PhaseRecordSchema),
  archived: z.array(ArchivedPhaseSchema),
  /** Archive files, relative to the workdir, oldest first. */
  archives: z.array(z.string()),
  /** Resets of the run so far, and the generations each phase must go beyond (see RunBook.noteReset). */
  resets: z.array(ResetSchema).optional(),
  generation_floors: z.record(z.string(), z.number().int().nonnegative()).optional(),
});
export type Continued = z.infer<typeof ContinuedSchema>;

export const RunInputSchema = z.object({
  plan: PlanSchema,
  config: OrchestratorConfigSchema.optional(),
  resume: ResumeSchema.optional(),
  continued: ContinuedSchema.optional(),
});
export type RunInput = z.input<typeof RunInputSchema>;
