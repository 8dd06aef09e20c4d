/**
 * The shape of the `status` query and of the workflow's result, as zod schemas: the types the
 * workflow, the client and the CLI share are inferred from them, and `schema/run-status.schema.json`
 * is generated from them for scripts in any language.
 */
import { z } from 'zod';
import { PhaseContextSchema, PhaseStateSchema } from '../handoff/schema.js';
import { PhaseIdSchema } from '../plan/schema.js';
import { LIMITS } from './limits.js';

export const RUN_STATES = ['running', 'paused', 'held', 'completed', 'failed', 'cancelled'] as const;
export const RunStateSchema = z.enum(RUN_STATES);
export type RunState = z.infer<typeof RunStateSchema>;
export const TERMINAL_RUN_STATES: readonly RunState[] = ['completed', 'failed', 'cancelled'];

const timestamp = z.string().describe('ISO 8601, UTC');

/** An agent's claim on a phase awaiting one (claimPhase): exclusive until its lease expires or is released. */
export const ClaimSchema = z.object({
  lease_id: z.string().describe('Names the claim in heartbeatClaim and releaseClaim. Not a secret: results are authenticated by their signature, and taken from the holder named by `agent`.'),
  agent: z.string().describe('Who holds the claim: a result is taken only from this agent (its provenance.agent, or user@host when it names none) while the lease lasts.'),
  labels: z.array(z.string()).optional().describe('The labels the agent said it has.'),
  since: timestamp,
  expires_at: timestamp.describe('When the lease ends unless the agent heartbeats: the phase then returns to the inbox.'),
  lease_s: z.number().positive().describe('The lease, in seconds, that each heartbeat renews (unless it names another).'),
  heartbeat_at: timestamp.optional().describe('The latest heartbeat.'),
});
export type Claim = z.infer<typeof ClaimSchema>;

export const AwaitingAgentSchema = z.object({
  since: timestamp,
  deadline: timestamp.nullable(),
  package_hash: z.string(),
  /** The attempt the package handed out names (runs that handed it out before this was recorded: 1, as they all did). */
  attempt: z.number().int().positive().optional(),
  handoff_path: z.string(),
  script_path: z.string(),
  claim: ClaimSchema.optional().describe('Set while an agent holds a claim on the phase (`baton agent claim`): who, since when, until when.'),
});
export type AwaitingAgent = z.infer<typeof AwaitingAgentSchema>;

export const PhaseProvenanceSchema = z.object({
  via: z.enum(['worker', 'agent', 'operator']).describe('Who completed it: a worker, an external agent (completePhase), or an operator (markPhaseDone) with an output of their own.'),
  executed_by: z.string(),
  package_hash: z.string().nullable(),
  result_hash: z.string().nullable(),
  mode: z.enum(['inline', 'online', 'offline']),
  host: z.string().optional(),
  user: z.string().optional(),
  agent: z.string().nullable().optional(),
  started_at: timestamp,
  finished_at: timestamp,
  reason: z.string().optional().describe("Why an operator marked the phase done (markPhaseDone's reason)."),
  claim: ClaimSchema.optional().describe('The claim under which the agent reported, when it held one.'),
});
export type PhaseProvenance = z.infer<typeof PhaseProvenanceSchema>;

export const CompensationSchema = z.object({
  state: z.enum(['running', 'completed', 'failed']),
  at: timestamp,
  error: z.string().optional(),
});

/** An activity's settings as Temporal has them (seconds; 0 where unset). */
export const ActivitySettingsSchema = z.object({
  task_queue: z.string(),
  start_to_close_timeout_s: z.number().nonnegative(),
  schedule_to_close_timeout_s: z.number().nonnegative(),
  schedule_to_start_timeout_s: z.number().nonnegative(),
  heartbeat_timeout_s: z.number().nonnegative(),
  maximum_attempts: z.number().int().nonnegative().describe('0: unlimited.'),
  initial_interval_s: z.number().nonnegative(),
  backoff_coefficient: z.number().nonnegative(),
  maximum_interval_s: z.number().nonnegative(),
});
export type ActivitySettings = z.infer<typeof ActivitySettingsSchema>;

export const PhaseActivitySchema = z
  .object({
    id: z.string().describe('The activity id (`phase-<id>-g<generation>-d<dispatch>`), for `temporal activity pause|unpause|update-options --activity-id`.'),
    state: z.enum(['scheduled', 'started', 'paused', 'pause_requested', 'cancel_requested']),
    attempt: z.number().int().positive().describe("Temporal's current attempt of this dispatch."),
    maximum_attempts: z.number().int().nonnegative().describe('0: unlimited.'),
    next_attempt_at: timestamp.optional().describe('While it backs off after a failed attempt: when the next one is due.'),
    last_failure: z.string().optional().describe("The last failed attempt's error."),
    paused: z
      .object({
        at: timestamp.nullable(),
        by: z.string().optional().describe('Who paused it, when the server says.'),
        reason: z.string().optional(),
        rule: z.string().optional().describe('The activity rule that paused it, if a rule did.'),
      })
      .optional()
      .describe('Set while Temporal holds the activity paused (UI Pending Activities → Pause, `temporal activity pause`): no attempt starts until it is unpaused.'),
    settings: ActivitySettingsSchema.optional().describe('The settings Temporal now runs it with, when they differ from those the run gave it (`temporal activity update-options`).'),
    changed: z.array(z.string()).optional().describe('Which of those settings differ from the run\'s.'),
  })
  .describe("Temporal's view of a running phase's activity, from the run's watch (every few seconds): set while it is paused, past its first attempt, or runs with changed settings; gone when none of these holds.");
export type PhaseActivity = z.infer<typeof PhaseActivitySchema>;

export const PhaseStatusSchema = z.object({
  id: PhaseIdSchema,
  name: z.string(),
  state: PhaseStateSchema,
  attempts: z.number().int().nonnegative().describe("Attempts across every generation of the phase; while it runs, those Temporal has begun, once the run's watch has reported the phase's `activity`."),
  generation: z.number().int().nonnegative(),
  resource_class: z.string(),
  task_queue: z.string(),
  scheduled_at: timestamp.nullable().describe('When the workflow handed the phase to its queue.'),
  started_at: timestamp.nullable().describe("When the phase's last attempt began executing on its worker or agent."),
  finished_at: timestamp.nullable(),
  depends_on: z.array(PhaseIdSchema),
  error: z.string().optional(),
  context: PhaseContextSchema.optional().describe('The output of the phase once completed.'),
  executed_by: z.string().optional().describe('Who ran the last attempt (`host:pid` of the worker, or the agent).'),
  content_hash: z.string().optional().describe('Hash of the sealed package the last attempt ran from.'),
  handoff_path: z.string().optional().describe('Where that package was saved, when handoff files are on.'),
  handoff_fallback: z.string().optional().describe('Why the package could not be saved and the phase ran inline anyway.'),
  separate_agent: z.boolean().describe('Whether the phase goes to an external agent rather than a worker.'),
  agent_labels: z.array(z.string()).optional().describe('The labels an agent must have to claim the phase (the plan\'s `"agent": {"labels": [...]}`), when it declares any.'),
  awaiting: AwaitingAgentSchema.optional().describe('While the phase waits for an external agent: what it waits on and until when.'),
  progress: z.object({ message: z.string(), percent: z.number().optional(), at: timestamp }).optional().describe("The agent's latest progress report."),
  agent_fallback: z.string().optional().describe('Why a phase meant for an agent ran on a worker instead.'),
  provenance: PhaseProvenanceSchema.optional().describe('Who ran the phase from which package, and what they reported.'),
  waiting_for_workers: z.string().optional().describe('Why a phase handed to its queue has not started: no worker polls the queue, or all are busy.'),
  activity: PhaseActivitySchema.optional(),
  reused_from: z.string().optional().describe('The earlier run whose output this phase reuses (`baton run --resume-from`).'),
  override: z.record(z.string(), z.unknown()).optional().describe('What a retryPhase changed for this phase (resource class, timeout, retries, config).'),
  archived: z.literal(true).optional().describe('Finished in an earlier segment of a run that continued as new; the full status is in the archive file.'),
  compensation: CompensationSchema.optional().describe("The phase's rollback, once it was abandoned."),
  unrequested_dependencies: z
    .array(PhaseIdSchema)
    .optional()
    .describe('A phase requested (executePhase) in a plan with auto_advance: false waits for these, which nobody has requested yet (the first few): request them too.'),
});
export type PhaseStatus = z.infer<typeof PhaseStatusSchema>;

export const ResetSchema = z.object({
  run_id: z.string().describe('The Temporal run the reset made.'),
  base_run_id: z.string().describe('The Temporal run that was reset (Temporal ended it).'),
  event_id: z.number().int().positive().describe("The event the run was reset to: everything the base run did from it on was dropped, and this run did it again (the base run's history keeps it)."),
  reason: z.string(),
  at: timestamp,
});
export type Reset = z.infer<typeof ResetSchema>;

export const RunStatusSchema = z.object({
  execution_id: z.string(),
  plan: z.string(),
  workdir: z.string().describe("The plan's workdir: artifacts, execution_context.json, and under `runs/<execution_id>/` this run's handoffs, logs and outputs."),
  store: z.string().optional().describe("The store the run's config names (`store`), where its files are; absent when it names none (each machine's BATON_STORE, or the workdir)."),
  handoffs_enabled: z.boolean().describe('Whether packages are saved under `<workdir>/runs/<execution_id>/handoffs/` (agent_handoff_enabled).'),
  state: RunStateSchema,
  paused: z.boolean(),
  started_at: timestamp,
  finished_at: timestamp.nullable(),
  held_reason: z.string().optional().describe('Why the run holds, when it does: the failed phases and what an operator can do.'),
  summary: z
    .object({ phases: z.number().int().nonnegative(), by_state: z.record(z.string(), z.number().int().nonnegative()) })
    .optional()
    .describe('How many phases the plan has, and how many are in each state: always whole, even when `phases` leaves some out.'),
  notices: z.array(z.string()).describe('Requests the run refused and things it did on its own, newest last: the latest 100, each cut to 1,000 characters.'),
  notices_dropped: z.number().int().positive().optional().describe('Older notices let go to keep the latest 100.'),
  continued: z.object({ segment: z.number().int().positive(), archives: z.array(z.string()) }).optional().describe('Set once the run has continued as new.'),
  resets: z.array(ResetSchema).optional().describe("Set once the run has been reset (Temporal's Reset), oldest first: from which Temporal run and event. Phases it ran again got new generations."),
  phases: z.record(z.string(), PhaseStatusSchema),
  omitted_phases: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe(
      "Phases left out of `phases` to keep this status within its size budget (1 MiB; Temporal's limit is 2 MiB): finished ones first, then those not started, then as many of the rest as fit (failed, running, awaiting an agent, ready, in that order). The `phases` query pages through them all; the final execution_context.json has every one.",
    ),
});
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** The `phases` query's request: a page of phases, in plan order, optionally of some states only. */
export const PhasesRequestSchema = z
  .strictObject({
    state: z.union([PhaseStateSchema, z.array(PhaseStateSchema).min(1)]).optional().describe('Only phases in this state, or these states.'),
    after: PhaseIdSchema.optional().describe('Start after this phase (the `next` of the page before); the first page when absent.'),
    offset: z.number().int().nonnegative().optional().describe('Or: skip this many matching phases.'),
    limit: z.number().int().min(1).max(LIMITS.pagePhases).optional().describe('At most this many phases (default 100, at most 1,000); a page also stops before 512 KiB.'),
  })
  .describe('The `phases` query: {"state": "failed", "limit": 100}, then {"state": "failed", "after": <next>} until `next` is null.');
export type PhasesRequest = z.infer<typeof PhasesRequestSchema>;

export const PhasesPageSchema = z.object({
  total: z.number().int().nonnegative().describe('Phases in the plan.'),
  matched: z.number().int().nonnegative().describe('Phases in the states asked for (all of them when no state was given).'),
  phases: z.array(PhaseStatusSchema).describe('This page of them, in plan order, each whole.'),
  next: PhaseIdSchema.nullable().describe('Pass as `after` for the next page; null when this page is the last.'),
});
export type PhasesPage = z.infer<typeof PhasesPageSchema>;
