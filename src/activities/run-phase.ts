/**
 * The `runPhase` activity: a phase worker executes one phase from its package.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { withPreviousContext } from '../handoff/build.js';
import { HandoffPackageSchema, type HandoffPackage } from '../handoff/schema.js';
import { zodProblems } from '../plan/problems.js';
import { defaultExecutor, executePhase, PhaseExecutionError } from './execute-phase.js';
import { compensatePhase } from './compensate.js';
import type { PhaseHandlers } from './handlers.js';
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
        throw ApplicationFailure.create({
          type: 'InvalidHandoff',
          message: `the handoff package is not valid: ${zodProblems(parsed.error).join('; ')}`,
          nonRetryable: true,
          details: [details],
        });
      }
      try {
        return await whileHeartbeating(() => executePhase(parsed.data, {
          attempt,
          // The workflow names each dispatch `phase-<key>-g<generation>-d<dispatch>`.
          dispatch: Number(/-d(\d+)$/.exec(ctx.info.activityId)?.[1] ?? 1),
          writeHandoffFiles: parsed.data.execution_instructions.save_handoff,
          handlers,
          executedBy,
          signal: ctx.cancellationSignal,
          heartbeat: (d) => ctx.heartbeat(d),
        }), { phase: String(parsed.data.to_phase) });
      } catch (err) {
        if (err instanceof PhaseExecutionError) {
          throw ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: !err.retryable, details: [details] });
        }
        throw ApplicationFailure.create({
          type: 'PhaseError',
          message: err instanceof Error ? err.message : String(err),
          nonRetryable: false,
          details: [details],
        });
      }
    },
  };
}
