/**
 * `baton run <plan> --resume-from <run>`: a new run that reuses what an earlier run already did.
 * A phase is reused only when it completed there, its definition is unchanged, every phase it
 * depends on is reused too, and its files are still there with the hashes recorded.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { configuredStore, pullContext, type VerifiedFiles } from '../runner/store/sync.js';
import { defaultPayloadConverter, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { EXECUTION_CONTEXT_FILE } from '../activities/execution-context.js';
import { runWorkdir } from '../core/handoff/build.js';
import { canonicalJson } from '../core/handoff/canonical.js';
import { contextFileProblems } from '../runner/validate-package.js';
import { formatPath } from '../core/plan/problems.js';
import { phaseKey, planSchemas, PlanSchema, type Phase, type Plan } from '../core/plan/schema.js';
import type { Resume } from '../core/api/run-input.js';
import type { PhaseStatus, RunStatus } from '../core/api/status.js';
import { RunHandle } from './orchestrator.js';
import { readStatusFile } from './read-status.js';

export interface ResumePlan {
  resume: Resume;
  reused: string[];
  rerun: Array<{ phase: string; why: string }>;
}

export async function planResume(client: Client, fromRun: string, plan: Plan): Promise<ResumePlan> {
  const earlier = await readEarlierRun(client, fromRun);
  const workdir = path.resolve(runWorkdir(plan));
  const resume: Resume = { from_run: fromRun, phases: {} };
  const rerun: ResumePlan['rerun'] = [];

  for (const phase of topological(plan)) {
    const key = phaseKey(phase.id);
    const notReused = phase.depends_on.map(phaseKey).filter((d) => !(d in resume.phases));
    const why = notReused.length > 0 ? `it depends on ${notReused.join(', ')}, which run again` : await reuseProblem(earlier, phase, workdir);
    if (why) {
      rerun.push({ phase: key, why });
      continue;
    }
    resume.phases[key] = resumeEntry(earlier.status.phases[key]!);
  }
  return { resume, reused: Object.keys(resume.phases), rerun };
}

/**
 * Why a `resume` block (from `baton run --resume-from`, or written by hand for `temporal workflow
 * start`) cannot be taken as it is, one line per phase: the run it names must have completed each
 * phase, defined the same, with that very output, whose files are still as recorded. `phases` are
 * the reused phases' definitions in the new plan, `workdir` the run's workdir here. Run by the
 * orchestrator worker (the verifyResume activity) before a run reuses anything.
 */
export async function resumeProblems(client: Client, resume: Resume, phases: Record<string, Phase>, workdir: string, store?: string): Promise<string[]> {
  let earlier: EarlierRun;
  try {
    earlier = await readEarlierRun(client, resume.from_run);
  } catch (err) {
    if (isNotFound(err)) return [`resume.from_run: there is no run ${resume.from_run} (or its history is gone) to reuse outputs from`];
    throw err;
  }
  const problems: string[] = [];
  for (const [key, given] of Object.entries(resume.phases)) {
    const at = formatPath(['resume', 'phases', key]);
    const phase = phases[key];
    const why = phase ? await reuseProblem(earlier, phase, workdir, store) : `the plan has no phase ${key}`;
    if (why) {
      problems.push(`${at}: phase ${key} cannot be reused: ${why}`);
      continue;
    }
    const recorded = resumeEntry(earlier.status.phases[key]!);
    const differs = Object.entries(given).filter(([field, value]) => canonicalJson(value) !== canonicalJson(recorded[field as keyof typeof recorded] ?? null));
    if (differs.length > 0) problems.push(`${at}: ${differs.map(([field]) => field).join(', ')} ${differs.length === 1 ? 'is' : 'are'} not what run ${resume.from_run} recorded for phase ${key}`);
  }
  return problems;
}

interface EarlierRun {
  id: string;
  phases: Map<string, Phase>;
  status: RunStatus;
}

async function readEarlierRun(client: Client, runId: string): Promise<EarlierRun> {
  const plan = await startingPlan(client, runId);
  return { id: runId, phases: new Map(plan.phases.map((p) => [phaseKey(p.id), p])), status: await earlierStatus(client, runId) };
}

/** Why a phase of the new plan cannot reuse the earlier run's output, or undefined. */
async function reuseProblem(earlier: EarlierRun, phase: Phase, workdir: string, runStore?: string): Promise<string | undefined> {
  const key = phaseKey(phase.id);
  const before = earlier.status.phases[key];
  if (!before || before.state !== 'completed' || !before.context) return `it did not complete in ${earlier.id}`;
  const defined = earlier.phases.get(key);
  if (!defined || canonicalJson(defined) !== canonicalJson(phase)) return 'its definition changed';
  // With a store, the files are there: this machine's copy of the workdir is filled from it first.
  const store = configuredStore(runStore);
  let verified: VerifiedFiles | undefined;
  if (store) {
    await mkdir(workdir, { recursive: true });
    verified = await pullContext(store, workdir, before.context, `phase ${key}'s`);
  }
  const problems = await contextFileProblems(workdir, before.context, ['output'], verified);
  if (problems.length > 0) return `its files changed: ${problems.map((p) => p.message).join('; ')}`;
  return undefined;
}

function resumeEntry(before: PhaseStatus): Resume['phases'][string] {
  return {
    context: before.context!.context,
    artifacts: before.context!.artifacts,
    ...(before.executed_by ? { executed_by: before.executed_by } : {}),
    started_at: before.started_at,
    finished_at: before.finished_at,
    ...(before.content_hash ? { content_hash: before.content_hash } : {}),
  };
}

/** gRPC's NOT_FOUND, which getWorkflowExecutionHistory answers for a run that is not there. */
const GRPC_NOT_FOUND = 5;

function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err as { code?: unknown } | null)?.code === GRPC_NOT_FOUND;
}

/** The plan the earlier run started with: the input of its first history event. */
async function startingPlan(client: Client, runId: string): Promise<Plan> {
  const response = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: runId },
    maximumPageSize: 1,
  });
  const payload = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error(`cannot read the plan run ${runId} started with`);
  const input = defaultPayloadConverter.fromPayload<{ plan: unknown }>(payload);
  // A run started before unknown keys were refused may carry some: read it as that run did.
  const plan = PlanSchema.safeParse(input.plan);
  return plan.success ? plan.data : planSchemas('ignore').plan.parse(input.plan);
}

/** Its phases with their outputs: from the run itself, or from execution_context.json when the run was cancelled. */
async function earlierStatus(client: Client, runId: string): Promise<RunStatus> {
  const status = await new RunHandle(client.workflow.getHandle(runId)).status();
  const file = path.resolve(status.workdir, EXECUTION_CONTEXT_FILE);
  const missingOutputs = Object.values(status.phases).some((p) => p.state === 'completed' && !p.context);
  if (!missingOutputs || !existsSync(file)) return status;
  const exported = await readStatusFile(file);
  return exported.execution_id === runId ? exported : status;
}

function topological(plan: Plan): Plan['phases'] {
  const byKey = new Map(plan.phases.map((p) => [phaseKey(p.id), p]));
  const done = new Set<string>();
  const order: Plan['phases'] = [];
  const visit = (key: string): void => {
    if (done.has(key)) return;
    done.add(key);
    const phase = byKey.get(key);
    if (!phase) return;
    for (const dep of phase.depends_on) visit(phaseKey(dep));
    order.push(phase);
  };
  for (const key of byKey.keys()) visit(key);
  return order;
}
