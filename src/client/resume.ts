/**
 * `baton run <plan> --resume-from <run>`: a new run that reuses what an earlier run already did.
 * A phase is reused only when it completed there, its definition is unchanged, every phase it
 * depends on is reused too, and its files are still there with the hashes recorded.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter, type Client } from '@temporalio/client';
import { EXECUTION_CONTEXT_FILE } from '../activities/execution-context.js';
import { runWorkdir } from '../core/handoff/build.js';
import { canonicalJson } from '../core/handoff/canonical.js';
import { contextFileProblems } from '../runner/validate-package.js';
import { phaseKey, planSchemas, PlanSchema, type Plan } from '../core/plan/schema.js';
import type { Resume } from '../core/api/run-input.js';
import type { RunStatus } from '../core/api/status.js';
import { RunHandle } from './orchestrator.js';
import { readStatusFile } from './read-status.js';

export interface ResumePlan {
  resume: Resume;
  reused: string[];
  rerun: Array<{ phase: string; why: string }>;
}

export async function planResume(client: Client, fromRun: string, plan: Plan): Promise<ResumePlan> {
  const earlierPlan = await startingPlan(client, fromRun);
  const status = await earlierStatus(client, fromRun);
  const workdir = path.resolve(runWorkdir(plan));
  const earlierPhases = new Map(earlierPlan.phases.map((p) => [phaseKey(p.id), p]));
  const resume: Resume = { from_run: fromRun, phases: {} };
  const rerun: ResumePlan['rerun'] = [];

  for (const phase of topological(plan)) {
    const key = phaseKey(phase.id);
    const before = status.phases[key];
    const why = await (async (): Promise<string | undefined> => {
      if (!before || before.state !== 'completed' || !before.context) return `it did not complete in ${fromRun}`;
      const earlier = earlierPhases.get(key);
      if (!earlier || canonicalJson(earlier) !== canonicalJson(phase)) return 'its definition changed';
      const notReused = phase.depends_on.map(phaseKey).filter((d) => !(d in resume.phases));
      if (notReused.length > 0) return `it depends on ${notReused.join(', ')}, which run again`;
      const problems = await contextFileProblems(workdir, before.context, ['output']);
      if (problems.length > 0) return `its files changed: ${problems.map((p) => p.message).join('; ')}`;
      return undefined;
    })();
    if (why) {
      rerun.push({ phase: key, why });
      continue;
    }
    resume.phases[key] = {
      context: before!.context!.context,
      artifacts: before!.context!.artifacts,
      ...(before!.executed_by ? { executed_by: before!.executed_by } : {}),
      started_at: before!.started_at,
      finished_at: before!.finished_at,
      ...(before!.content_hash ? { content_hash: before!.content_hash } : {}),
    };
  }
  return { resume, reused: Object.keys(resume.phases), rerun };
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
