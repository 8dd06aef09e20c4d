/**
 * Reading the workflow's input, which may come from `baton run`, another SDK, or a hand-written
 * file given to `temporal workflow start`: checked before anything starts, so a bad one fails the
 * run at once with every problem listed, and loses nothing.
 *
 * Of the input's blocks, only the plan and config are taken on trust (and checked). `continued` is
 * the state a run hands to the run it continues as: taken only from a run that continued. `resume`
 * names outputs an earlier run recorded: checked against that run before a phase is reused.
 */
import { storeArg, type RunWhere } from './run-where.js';
import { workflowInfo } from '@temporalio/workflow';
import { failure } from '../api/failures.js';
import { bytesText, LIMITS, measureJson, pathText } from '../api/limits.js';
import { ContinuedSchema, ResumeSchema, type Continued, type Resume, type RunInput } from '../api/run-input.js';
import { describeFindings, findSecrets } from '../handoff/secrets.js';
import { formatPath } from '../plan/problems.js';
import { PlanError, zodProblems } from '../plan/problems.js';
import { phaseKey, type Phase } from '../plan/schema.js';
import { checkRun, type CheckedRun } from '../plan/validate.js';
import { orchestratorActivities } from './activities.js';
import { boundedInputs, checksInputs, unknownPlanKeys } from './behaviour.js';
import { failureMessage } from './phase-lifecycle.js';

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
    return checkRun(input.plan, input.config ?? {}, { unknownKeys: unknownPlanKeys(), secretScan: checksInputs() ? 'all' : 'contexts', bounds });
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
  if (checksInputs() && workflowInfo().continuedFromExecutionRunId === undefined) {
    // A run that continued as new knows the run it continued from; one started with the block by
    // hand (a phase marked completed that never ran, say) does not.
    throw failure(
      'InvalidPlan',
      `the input's "continued" is the state a run hands to the run it continues as new, and this run was started, not continued (no run continued into it): start runs without it; to reuse an earlier run's work, use baton run --resume-from`,
    );
  }
  return parsed.data;
}

/**
 * The earlier run's outputs a new run reuses (`baton run --resume-from`), once checked: its shape,
 * no credentials, and every phase's output as the run it names recorded it (the verifyResume
 * activity reads that run). Runs from before TRUSTED_INPUT_PATCH took the block as it came.
 */
export async function verifiedResume(input: RunInput, checked: CheckedRun, where: RunWhere): Promise<Resume | undefined> {
  if (input.resume === undefined) return undefined;
  if (!checksInputs()) return input.resume as Resume;
  const parsed = ResumeSchema.safeParse(input.resume);
  if (!parsed.success) {
    throw failure('InvalidPlan', `the input's "resume" is not valid (${zodProblems(parsed.error).join('; ')}); baton run --resume-from <run> writes it`);
  }
  const resume = parsed.data;
  const safeKeys = checked.plan.safe_keys;
  const secrets = Object.entries(resume.phases).flatMap(([key, phase]) => findSecrets(phase, { root: formatPath(['resume', 'phases', key]), safeKeys }));
  if (secrets.length > 0) {
    throw failure('InvalidPlan', `the input's "resume" carries credentials: ${describeFindings(secrets).join('; ')}`);
  }
  const problems = resumeShapeProblems(resume, checked);
  if (problems.length === 0) {
    try {
      problems.push(
        ...(await orchestratorActivities.verifyResume.executeWithOptions(
          { startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 5, initialInterval: '1 second' }, summary: `Check the reused outputs against run ${resume.from_run}` },
          [resume, reusedPhases(resume, checked), where.workdir, where.baseDir, ...storeArg(where)],
        )),
      );
    } catch (err) {
      throw failure('InvalidPlan', `the input's "resume" could not be checked against run ${resume.from_run} (${failureMessage(err)}): start the run again`);
    }
  }
  if (problems.length > 0) {
    throw failure('InvalidPlan', `the input's "resume" is not what run ${resume.from_run} recorded:\n${problems.map((p) => `  - ${p}`).join('\n')}\nstart runs with baton run --resume-from ${resume.from_run}, which writes it`, problems);
  }
  return resume;
}

/** A reused phase must be in the plan, and so must be every phase it depends on: those run no more either. */
function resumeShapeProblems(resume: Resume, checked: CheckedRun): string[] {
  const phases = new Map(checked.plan.phases.map((p) => [phaseKey(p.id), p]));
  const problems: string[] = [];
  for (const key of Object.keys(resume.phases)) {
    const at = formatPath(['resume', 'phases', key]);
    const phase = phases.get(key);
    if (!phase) {
      problems.push(`${at}: the plan has no phase ${key}`);
      continue;
    }
    const rerun = phase.depends_on.map(phaseKey).filter((dep) => !(dep in resume.phases));
    if (rerun.length > 0) problems.push(`${at}: phase ${key} depends on ${rerun.join(', ')}, which would run again, so it cannot be reused`);
  }
  return problems;
}

/** The definitions of the phases a resume block reuses: what the check needs of the plan (all of it may be large). */
function reusedPhases(resume: Resume, checked: CheckedRun): Record<string, Phase> {
  const phases: Record<string, Phase> = {};
  for (const phase of checked.plan.phases) if (phaseKey(phase.id) in resume.phases) phases[phaseKey(phase.id)] = phase;
  return phases;
}
