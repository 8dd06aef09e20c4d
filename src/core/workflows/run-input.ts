/**
 * Reading the workflow's input, which may come from `baton run`, another SDK, or a hand-written
 * file given to `temporal workflow start`: checked before anything starts, so a bad one fails the
 * run at once with every problem listed, and loses nothing.
 */
import { failure } from '../api/failures.js';
import { bytesText, LIMITS, measureJson, pathText } from '../api/limits.js';
import { ContinuedSchema, type Continued, type RunInput } from '../api/run-input.js';
import { PlanError, zodProblems } from '../plan/problems.js';
import { checkRun, type CheckedRun } from '../plan/validate.js';
import { boundedInputs, unknownPlanKeys } from './behaviour.js';

export function parseRunInput(input: RunInput): CheckedRun {
  try {
    if (!input || typeof input !== 'object' || !('plan' in input)) {
      throw new PlanError('the workflow input', ['expected {"plan": {...}, "config": {...}}; the plan goes under "plan"']);
    }
    // A continued run's plan was checked by the run's first segment, under the rules it started with.
    const bounds = input.continued === undefined && boundedInputs();
    if (bounds) {
      const problem = inputSizeProblem(input);
      if (problem) throw new PlanError('the workflow input', [problem]);
    }
    return checkRun(input.plan, input.config ?? {}, { unknownKeys: unknownPlanKeys(), bounds });
  } catch (err) {
    if (err instanceof PlanError) {
      // Nothing has started: failing now, with every problem listed, loses nothing.
      throw failure('InvalidPlan', err.message, err.problems);
    }
    throw err;
  }
}

/**
 * The input (less a continued run's state) must leave room within Temporal's 2 MiB payload
 * limit for the state the run carries when it continues as new; and nothing in it may nest deeper
 * than anything can serialise.
 */
export function inputSizeProblem(input: Pick<RunInput, 'plan' | 'config' | 'resume'>): string | undefined {
  const { plan, config, resume } = input;
  // The plan's and config's nesting is checked, field by field, by their bounds (plan/bounds.ts).
  const deepResume = resume === undefined ? undefined : measureJson(resume).tooDeepAt;
  if (deepResume) return `${pathText('resume', deepResume)} is nested more than ${LIMITS.depth} levels deep; at most ${LIMITS.depth}`;
  const measured = measureJson({ plan, config, resume }, { maxDepth: Number.POSITIVE_INFINITY });
  if (measured.bytes <= LIMITS.runInputBytes) return undefined;
  return (
    `the plan, config and reused outputs are ${bytesText(measured.bytes)} as JSON; a run's input may be at most ${bytesText(LIMITS.runInputBytes)} ` +
    `(Temporal's payload limit is 2 MiB, and a run needs room for its own state): keep large data in files named in shared_artifacts, ` +
    `or split the plan into several runs`
  );
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
