export { createPhaseActivities } from './run-phase.js';
export { createOrchestratorActivities, EXECUTION_CONTEXT_FILE } from './execution-context.js';
export { executePhase, PhaseExecutionError } from './execute-phase.js';
export type { PhaseHandler, PhaseHandlerContext, PhaseHandlers } from './handlers.js';
export type * from './types.js';
