// Baton as a library: start and operate runs, run workers, check plans.
export { Orchestrator, RunHandle, type StartOptions } from './orchestrator.js';
export { connectClient, connectSettings, type ConnectSettings } from './connection.js';
export { loadRun, loadConfig } from './load-plan.js';
export { runWorkers, type RunWorkersOptions, type RunningWorkers } from '../workers/run-workers.js';
export type { PhaseHandler, PhaseHandlerContext, PhaseHandlers } from '../activities/handlers.js';
export type { RunStatus, PhaseStatus, RunState } from '../workflows/status.js';
export * from '../plan/schema.js';
export { PlanError } from '../plan/problems.js';
export type { HandoffPackage, PhaseContext, ArtifactRef } from '../handoff/schema.js';
