/**
 * The `runPhase` activity: a phase worker executes one phase from its package.
 */
import { Context } from '@temporalio/activity';
import { failure } from '../core/api/failures.js';
import { withPreviousContext } from '../core/handoff/build.js';
import { HandoffPackageSchema, type HandoffPackage } from '../core/handoff/schema.js';
import { zodProblems } from '../core/plan/problems.js';
import { defaultExecutor, executePhase, PhaseExecutionError } from '../runner/execute-phase.js';
import { compensatePhase } from './compensate.js';
import type { PhaseHandlers } from '../runner/handlers.js';
import { whileHeartbeating } from './keep-alive.js';
import type { PhaseActivities, PhaseFailureDetails, PhaseRunResult } from './types.js';

export function createPhaseActivities(handlers: PhaseHandlers = {}): PhaseActivities {
  return {
    compensatePhase,
    async runPhase(handoff: HandoffPackage): Promise<PhaseRunResult> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const executedBy = defaultExecutor();
      const details: PhaseFailureDetails = { attempt, executed_by: executedBy };
      const parsed = HandoffPackageSchema.safeParse(withPreviousContext(handoff));
      if (!parsed.success) {
        throw failure('InvalidHandoff', `the handoff package is not valid: ${zodProblems(parsed.error).join('; ')}`, details);
      }
      try {
        return await whileHeartbeating(() => executePhase(parsed.data, {
          attempt,
          // The workflow names each dispatch `phase-<key>-g<generation>-d<dispatch>`.
          dispatch: Number(/-d(\d+)$/.exec(ctx.info.activityId)?.[1] ?? 1),
          dispatchedIn: ctx.info.workflowExecution?.runId,
          writeHandoffFiles: parsed.data.execution_instructions.save_handoff,
          handlers,
          executedBy,
          signal: ctx.cancellationSignal,
          heartbeat: (d) => ctx.heartbeat(d),
        }), { phase: String(parsed.data.to_phase) });
      } catch (err) {
        if (err instanceof PhaseExecutionError) {
          throw failure(err.type, err.message, details);
        }
        throw failure('PhaseError', err instanceof Error ? err.message : String(err), details);
      }
    },
  };
}
