/**
 * Signals, queries and updates of `phasedRun`, shared by the workflow and its clients
 * so both sides agree on names and argument shapes.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PhaseId } from '../plan/schema.js';
import type { RunStatus } from './status.js';

export interface RetryPhaseRequest {
  phase: PhaseId;
  /** Also re-run every phase that depends on this one. */
  downstream?: boolean;
}

export interface SkipPhaseRequest {
  phase: PhaseId;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const retryPhaseSignal = defineSignal<[RetryPhaseRequest]>('retryPhase');
export const skipPhaseSignal = defineSignal<[SkipPhaseRequest]>('skipPhase');
export const statusQuery = defineQuery<RunStatus>('status');
