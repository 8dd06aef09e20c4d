/**
 * The problems checkRun lists for a plan and config, or none when it accepts them: what the
 * plan-checking tests assert on.
 */
import { PlanError } from '../../src/core/plan/problems.js';
import { checkRun, type CheckOptions } from '../../src/core/plan/validate.js';

export function problemsOf(plan: unknown, config: unknown = {}, options: CheckOptions = {}): string[] {
  try {
    checkRun(plan, config, options);
  } catch (err) {
    if (err instanceof PlanError) return err.problems;
    throw err;
  }
  return [];
}
