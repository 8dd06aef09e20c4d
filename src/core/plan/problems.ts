/**
 * Turning validation failures into messages a user can act on.
 *
 * Every check in Baton reports a list of problems rather than the first one,
 * so a user fixes a plan in one pass instead of one error per run.
 */
import type { z } from 'zod';

/** Problems one error lists: a plan of 100,000 bad phases must not make a message (and a failure in history) of megabytes. */
export const MAX_PROBLEMS_LISTED = 100;

export class PlanError extends Error {
  readonly problems: string[];

  constructor(
    readonly what: string,
    problems: string[],
    /** `are` when `what` names more than one thing. */
    verb: 'is' | 'are' = 'is',
  ) {
    const listed = problems.length <= MAX_PROBLEMS_LISTED
      ? problems
      : [...problems.slice(0, MAX_PROBLEMS_LISTED), `… and ${problems.length - MAX_PROBLEMS_LISTED} more problems`];
    super(`${what} ${verb} not valid:\n${listed.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PlanError';
    this.problems = listed;
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Where something is in a document, the way a user would point at it in their file: array
 * indexes as `[2]`, keys that are identifiers as `.name`, any other key quoted, as `["1"]` or
 * `["my-file.csv"]`: `phases[2].command`, `dependency_contexts["1"].artifacts.report`.
 * `root`, already formatted, is put in front (`global_context` + `.aws.key`).
 * The one path formatter: plan problems, package problems and secret findings all use it.
 */
export function formatPath(path: ReadonlyArray<PropertyKey>, root = ''): string {
  let out = root;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'symbol') out += `[${String(part)}]`;
    else if (IDENTIFIER.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out || '(top level)';
}

export function zodProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
}
