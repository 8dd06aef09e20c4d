/**
 * Reading the workflow's input, which may come from `baton run`, another SDK, or a hand-written
 * file given to `temporal workflow start`: checked before anything starts, so a bad one fails the
 * run at once with every problem listed, and loses nothing.
 */
import { failure } from '../api/failures.js';
import { ContinuedSchema, type Continued, type RunInput } from '../api/run-input.js';
import { PlanError, zodProblems } from '../plan/problems.js';
import { checkRun, type CheckedRun } from '../plan/validate.js';
import { unknownPlanKeys } from './behaviour.js';

export function parseRunInput(input: RunInput): CheckedRun {
  try {
    if (!input || typeof input !== 'object' || !('plan' in input)) {
      throw new PlanError('the workflow input', ['expected {"plan": {...}, "config": {...}}; the plan goes under "plan"']);
    }
    return checkRun(input.plan, input.config ?? {}, { unknownKeys: unknownPlanKeys() });
  } catch (err) {
    if (err instanceof PlanError) {
      // Nothing has started: failing now, with every problem listed, loses nothing.
      throw failure('InvalidPlan', err.message, err.problems);
    }
    throw err;
  }
}

/** The state a run carries when it continues as new (written by the run itself, never by hand). */
export function parseContinued(input: RunInput): Continued | undefined {
  if (input.continued === undefined) return undefined;
  const parsed = ContinuedSchema.safeParse(input.continued);
  if (!parsed.success) {
    throw failure('InvalidPlan', `the input's "continued" is not valid (${zodProblems(parsed.error).join('; ')}); it is written by a run that continues as new: start runs without it`);
  }
  return parsed.data;
}
