/**
 * How the CLI reports failures: a user's mistake gets its message and exit code 2,
 * never a stack trace; anything else gets its message and exit code 1.
 */
import { withCauses } from '../client/temporal-errors.js';
import { PlanError } from '../core/plan/problems.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export function reportAndExit(err: unknown): never {
  if (err instanceof PlanError || err instanceof UsageError) {
    console.error(`baton: ${err.message}`);
    process.exit(2);
  }
  // With its causes: the SDK's own words (`Failed to start Workflow`) say nothing without them.
  const message = err instanceof Error ? withCauses(err) : String(err);
  console.error(`baton: ${message}`);
  if (process.env.BATON_DEBUG && err instanceof Error) console.error(err.stack);
  process.exit(1);
}

/** Wraps a command's action so every failure goes through reportAndExit. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      reportAndExit(err);
    }
  };
}
