/**
 * A run started with a `resume` block checks it before reusing anything (see verifiedResume in
 * src/core/workflows/run-input.ts): the outputs must be those the earlier run recorded, which only
 * a worker can read.
 */
import { Context } from '@temporalio/activity';
import { resumeProblems } from '../client/resume.js';
import type { Resume } from '../core/api/run-input.js';
import type { Phase } from '../core/plan/schema.js';
import { resolveWorkdir } from '../runner/workdir.js';

export async function verifyResume(resume: Resume, phases: Record<string, Phase>, workdir: string, baseDir: string | null, store?: string): Promise<string[]> {
  return resumeProblems(Context.current().client, resume, phases, resolveWorkdir(workdir, baseDir), store);
}
