export { createPhaseActivities } from './run-phase.js';
export { createOrchestratorActivities, EXECUTION_CONTEXT_FILE } from './execution-context.js';
export { executePhase, PhaseExecutionError } from '../runner/execute-phase.js';
export type { PhaseHandler, PhaseHandlerContext, PhaseHandlers } from '../runner/handlers.js';
export type * from './types.js';
