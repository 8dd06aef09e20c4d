/**
 * Signals, queries and updates of `phasedRun`, defined once and shared by the workflow and its
 * clients, so both sides agree on names and payloads (the payloads' schemas are in messages.ts).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AgentResult } from '../handoff/result.js';
import type {
  AgentProgress,
  CompletePhaseResponse,
  ExecutePhaseRequest,
  HandPhaseRequest,
  MarkPhaseDoneRequest,
  OperationResponse,
  PhaseInterrupted,
  RetryPhaseRequest,
  SkipPhaseRequest,
} from './messages.js';
import type { PhasesPage, PhasesRequest, PhaseStatus, RunStatus } from './status.js';

export type { AgentProgress, CompletePhaseResponse, ExecutePhaseRequest, HandPhaseRequest, MarkPhaseDoneRequest, OperationResponse, PhaseInterrupted, PhasesPage, PhasesRequest, RetryPhaseRequest, SkipPhaseRequest };

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const retryPhaseSignal = defineSignal<[RetryPhaseRequest]>('retryPhase');
export const skipPhaseSignal = defineSignal<[SkipPhaseRequest]>('skipPhase');
export const agentProgressSignal = defineSignal<[AgentProgress]>('agentProgress');
/** A phase worker says an attempt of a phase was interrupted (not failed) and the next one starts. */
export const phaseInterruptedSignal = defineSignal<[PhaseInterrupted]>('phaseInterrupted');
export const statusQuery = defineQuery<RunStatus>('status');
/**
 * Phases page by page, whole (PhasesRequestSchema in, PhasesPageSchema out): what `status` leaves
 * out of a large plan to stay within its size budget.
 */
export const phasesQuery = defineQuery<PhasesPage, [PhasesRequest?]>('phases');
/** An external agent's result for a phase awaiting one. A bad result is refused; the phase keeps waiting. */
export const completePhaseUpdate = defineUpdate<CompletePhaseResponse, [AgentResult]>('completePhase');
/**
 * The guide's `execute_phase(id, use_separate_agent)`: request one phase (plans with
 * `auto_advance: false` start nothing unrequested). Returns when the phase has completed or
 * failed, or, for a separate agent, once its package is ready.
 */
export const executePhaseUpdate = defineUpdate<PhaseStatus, [ExecutePhaseRequest]>('executePhase');

/*
 * The operations as updates, under the signals' names (Temporal keeps signals and updates apart):
 * the same JSON, but a bad request is refused at once by the update's validator, with what is wrong
 * and how to fix it, where the signal can only leave a notice; an accepted one answers what it did.
 * The signals stay, for scripts that send them.
 */
export const pauseUpdate = defineUpdate<OperationResponse, []>('pause');
export const resumeUpdate = defineUpdate<OperationResponse, []>('resume');
export const retryPhaseUpdate = defineUpdate<OperationResponse, [RetryPhaseRequest]>('retryPhase');
export const skipPhaseUpdate = defineUpdate<OperationResponse, [SkipPhaseRequest]>('skipPhase');
/** Complete a failed phase, or one awaiting an agent, with an output an operator gives (checked like an agent's). */
export const markPhaseDoneUpdate = defineUpdate<OperationResponse, [MarkPhaseDoneRequest]>('markPhaseDone');
/** Hand a phase that waits or failed to an external agent, or back to a worker. */
export const handPhaseUpdate = defineUpdate<OperationResponse, [HandPhaseRequest]>('handPhase');

// The agent inbox: claims on phases awaiting an agent, with leases (workflows/claims.ts; payloads in messages.ts).
import type {
  ClaimPhaseRequest,
  ClaimPhaseResponse,
  HeartbeatClaimRequest,
  HeartbeatClaimResponse,
  ReleaseClaimRequest,
  ReleaseClaimResponse,
} from './messages.js';

export type { ClaimPhaseRequest, ClaimPhaseResponse, HeartbeatClaimRequest, HeartbeatClaimResponse, ReleaseClaimRequest, ReleaseClaimResponse };

/** Claim a phase awaiting an agent, exclusively, for a lease: refused (InvalidRequest) when another agent holds it, or the agent lacks a label. */
export const claimPhaseUpdate = defineUpdate<ClaimPhaseResponse, [ClaimPhaseRequest]>('claimPhase');
/** Renew a claim's lease before it expires. */
export const heartbeatClaimUpdate = defineUpdate<HeartbeatClaimResponse, [HeartbeatClaimRequest]>('heartbeatClaim');
/** Give a claimed phase back to the inbox. */
export const releaseClaimUpdate = defineUpdate<ReleaseClaimResponse, [ReleaseClaimRequest]>('releaseClaim');
