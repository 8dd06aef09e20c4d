/**
 * Signals, queries and updates of `phasedRun`, shared by the workflow and its clients
 * so both sides agree on names and argument shapes.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AgentResult } from '../handoff/result.js';
import type { PhaseId } from '../plan/schema.js';
import type { PhaseStatus, RunStatus } from './status.js';

export interface RetryPhaseRequest {
  phase: PhaseId;
  /** Also re-run every phase that depends on this one. */
  downstream?: boolean;
  /** Re-read the dependencies' files and take their current hashes, instead of the pinned ones. */
  refresh?: boolean;
  /** Overrides for this phase from now on: another resource class, a longer timeout, more retries, changed config (merged). */
  resource_class?: string;
  timeout_s?: number;
  retries?: number;
  config?: Record<string, unknown>;
}

export interface SkipPhaseRequest {
  phase: PhaseId;
}

export interface AgentProgress {
  phase: PhaseId;
  message: string;
  /** 0..100, when the agent knows. */
  percent?: number;
}

export interface ExecutePhaseRequest {
  phase: PhaseId;
  /** Hand the phase to an external agent instead of a worker. */
  use_separate_agent?: boolean;
}

export interface CompletePhaseResponse {
  accepted: true;
  phase: PhaseStatus;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const retryPhaseSignal = defineSignal<[RetryPhaseRequest]>('retryPhase');
export const skipPhaseSignal = defineSignal<[SkipPhaseRequest]>('skipPhase');
export const agentProgressSignal = defineSignal<[AgentProgress]>('agentProgress');
export const statusQuery = defineQuery<RunStatus>('status');
/** An external agent's result for a phase awaiting one. A bad result is refused; the phase keeps waiting. */
export const completePhaseUpdate = defineUpdate<CompletePhaseResponse, [AgentResult]>('completePhase');
/**
 * The guide's `execute_phase(id, use_separate_agent)`: request one phase (plans with
 * `auto_advance: false` start nothing unrequested). Returns when the phase has completed or
 * failed, or, for a separate agent, once its package is ready.
 */
export const executePhaseUpdate = defineUpdate<PhaseStatus, [ExecutePhaseRequest]>('executePhase');
