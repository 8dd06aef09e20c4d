// Baton as a library: start and operate runs, run workers, check plans.
export { Orchestrator, RunHandle, type StartOptions } from './orchestrator.js';
export { connectClient, connectSettings, type ConnectSettings } from './connection.js';
export { loadRun, loadConfig } from './load-plan.js';
export { runWorkers, type RunWorkersOptions, type RunningWorkers } from '../workers/run-workers.js';
export type { PhaseHandler, PhaseHandlerContext, PhaseHandlers } from '../runner/handlers.js';
export { RunStatusSchema, PhaseStatusSchema, type RunStatus, type PhaseStatus, type RunState } from '../core/api/status.js';
export * from '../core/api/messages.js';
export { RunInputSchema, ResumeSchema, type RunInput, type Resume } from '../core/api/run-input.js';
export * from '../core/plan/schema.js';
export { PlanError } from '../core/plan/problems.js';
export type { HandoffPackage, PhaseContext, ArtifactRef } from '../core/handoff/schema.js';
export { FAILURES, FAILURE_TYPES, isFailureType, type FailureType, type FailureInfo } from '../core/api/failures.js';
