/**
 * The JSON Schemas in `schema/`, generated from the zod schemas so the two cannot drift: agents
 * and scripts in any language validate what they send and read with them, and people typing a
 * request into the Web UI's Send Signal / Send Update dialogs can see what it takes.
 * `npm run schema` writes them; a test fails when a committed copy is stale.
 */
import { z } from 'zod';
import { AgentResultSchema } from '../handoff/result.js';
import { HandoffPackageSchema, PhaseOutputFileSchema } from '../handoff/schema.js';
import {
  AgentProgressSchema,
  CompletePhaseResponseSchema,
  ExecutePhaseRequestSchema,
  HandPhaseRequestSchema,
  MarkPhaseDoneRequestSchema,
  OperationResponseSchema,
  RetryPhaseRequestSchema,
  SkipPhaseRequestSchema,
  ClaimPhaseRequestSchema,
  ClaimPhaseResponseSchema,
  HeartbeatClaimRequestSchema,
  HeartbeatClaimResponseSchema,
  ReleaseClaimRequestSchema,
  ReleaseClaimResponseSchema,
} from './messages.js';
import { RunInputSchema } from './run-input.js';
import { PhasesPageSchema, PhasesRequestSchema, RunStatusSchema } from './status.js';

export const SCHEMA_FILES = {
  'handoff-package.schema.json': { schema: HandoffPackageSchema, title: 'Baton handoff package', io: 'input', description: "A phase's package: handoffs/phase_<id>.json, and BATON_HANDOFF." },
  'phase-output.schema.json': {
    schema: PhaseOutputFileSchema,
    title: 'Baton phase output (BATON_OUTPUT)',
    io: 'input',
    description:
      "What a command phase writes to the file BATON_OUTPUT names: artifacts as paths, which the worker hashes into the phase's output. Not an agent's result: an agent reports through completePhase (agent-result.schema.json), whose output holds the artifacts' sha256 and size itself.",
  },
  'run-input.schema.json': {
    schema: RunInputSchema.omit({ continued: true }),
    title: 'Baton run input (workflow phasedRun)',
    io: 'input',
    description: 'The input of `temporal workflow start --type phasedRun --task-queue baton --input-file run.json`: {"plan": ..., "config": ...}.',
  },
  'retry-phase.schema.json': { schema: RetryPhaseRequestSchema, title: 'retryPhase', io: 'input', description: 'Update (or signal) retryPhase: run a failed, completed or skipped phase again, optionally with overrides.' },
  'skip-phase.schema.json': { schema: SkipPhaseRequestSchema, title: 'skipPhase', io: 'input', description: 'Update (or signal) skipPhase: mark a pending, ready or failed phase skipped so its dependants can run.' },
  'mark-phase-done.schema.json': {
    schema: MarkPhaseDoneRequestSchema,
    title: 'markPhaseDone',
    io: 'input',
    description: "Update markPhaseDone: complete a failed phase, or one awaiting an agent, with an operator's output, checked against its output_schema.",
  },
  'hand-phase.schema.json': { schema: HandPhaseRequestSchema, title: 'handPhase', io: 'input', description: 'Update handPhase: hand a phase that waits or failed to an external agent, or back to a worker.' },
  'operation-response.schema.json': {
    schema: OperationResponseSchema,
    title: 'An operation update\'s answer',
    io: 'output',
    description: 'What the updates pause, resume, retryPhase, skipPhase, markPhaseDone and handPhase answer when they accept a request.',
  },
  'execute-phase.schema.json': { schema: ExecutePhaseRequestSchema, title: 'executePhase', io: 'input', description: 'Update executePhase: request one phase (plans with auto_advance: false).' },
  'agent-progress.schema.json': { schema: AgentProgressSchema, title: 'agentProgress', io: 'input', description: 'Signal agentProgress: an agent reports progress on a phase it runs.' },
  'agent-result.schema.json': {
    schema: AgentResultSchema,
    title: 'completePhase (an agent result)',
    io: 'input',
    description:
      "Update completePhase: an external agent's sealed result for a phase awaiting one, bound to the package it ran (docs/agent-contract.md). The answer is complete-phase-response.schema.json; a refusal is a failed update whose failure has type ResultRefused, and the phase keeps waiting.",
  },
  'complete-phase-response.schema.json': {
    schema: CompletePhaseResponseSchema,
    title: 'completePhase answer',
    io: 'output',
    description: 'What the completePhase update answers when it accepts a result: {"accepted": true, "phase": <the phase\'s status, as in the status query>}.',
  },
  // The agent inbox's claims (updates; a refusal is a failed update of type InvalidRequest).
  'claim-phase.schema.json': { schema: ClaimPhaseRequestSchema, title: 'claimPhase', io: 'input', description: 'Update claimPhase: an agent claims a phase awaiting one, for a lease it renews by heartbeatClaim.' },
  'claim-phase-response.schema.json': { schema: ClaimPhaseResponseSchema, title: 'claimPhase answer', io: 'output', description: 'What claimPhase answers: the lease, when it expires, and the package to run.' },
  'heartbeat-claim.schema.json': { schema: HeartbeatClaimRequestSchema, title: 'heartbeatClaim', io: 'input', description: "Update heartbeatClaim: renew a claim's lease." },
  'heartbeat-claim-response.schema.json': { schema: HeartbeatClaimResponseSchema, title: 'heartbeatClaim answer', io: 'output', description: 'What heartbeatClaim answers: the lease\'s new expiry.' },
  'release-claim.schema.json': { schema: ReleaseClaimRequestSchema, title: 'releaseClaim', io: 'input', description: 'Update releaseClaim: give a claimed phase back to the inbox.' },
  'release-claim-response.schema.json': { schema: ReleaseClaimResponseSchema, title: 'releaseClaim answer', io: 'output', description: 'What releaseClaim answers.' },
  'run-status.schema.json': { schema: RunStatusSchema, title: 'Baton run status', io: 'output', description: 'The answer of the status query, the result of phasedRun, and execution_context.json.' },
  'phases-request.schema.json': { schema: PhasesRequestSchema, title: 'phases (a query)', io: 'input', description: 'Query phases: which page of the phases to list, in plan order, optionally of some states only.' },
  'phases-page.schema.json': { schema: PhasesPageSchema, title: 'A page of phases', io: 'output', description: 'The answer of the phases query: a page of phases, each whole, and where the next page starts.' },
} as const;

export type SchemaFile = keyof typeof SCHEMA_FILES;

export function jsonSchemaFor(name: SchemaFile): Record<string, unknown> {
  const { schema, title, io, description } = SCHEMA_FILES[name];
  return { title, description, ...z.toJSONSchema(schema, { io }) };
}
