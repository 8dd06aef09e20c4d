/**
 * Reading a run's status from outside the run (execution_context.json, the memo of a closed run,
 * a failure's details): checked against the status schema rather than trusted.
 */
import { readFile } from 'node:fs/promises';
import { zodProblems } from '../core/plan/problems.js';
import { RunStatusSchema, type RunStatus } from '../core/api/status.js';

export function asRunStatus(value: unknown): RunStatus | undefined {
  const parsed = RunStatusSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export async function readStatusFile(file: string): Promise<RunStatus> {
  const parsed = RunStatusSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a Baton run status (${zodProblems(parsed.error).slice(0, 3).join('; ')})`);
  return parsed.data;
}
