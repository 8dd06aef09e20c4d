/**
 * A run made by Temporal's Reset asks, once past the reset point, where it came from (see
 * src/core/workflows/reset-watch.ts): the answer is read from its own history and the histories
 * of the runs it replaced, which the workflow cannot read itself.
 */
import { Context } from '@temporalio/activity';
import { readResetOrigin } from '../client/reset.js';
import type { ResetOrigin } from './types.js';

export async function resetOrigin(): Promise<ResetOrigin> {
  const ctx = Context.current();
  const execution = ctx.info.workflowExecution;
  if (!execution) return { reset: null, generations: {} };
  return readResetOrigin(ctx.client, execution.workflowId, execution.runId);
}
