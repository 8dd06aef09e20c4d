/**
 * Turning validation failures into messages a user can act on.
 *
 * Every check in Baton reports a list of problems rather than the first one,
 * so a user fixes a plan in one pass instead of one error per run.
 */
import type { z } from 'zod';

export class PlanError extends Error {
  constructor(
    readonly what: string,
    readonly problems: string[],
  ) {
    super(`${what} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PlanError';
  }
}

/** `phases[2].command` style path, the way a user would point at the spot in their file. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

export function zodProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
}
