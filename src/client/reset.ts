/**
 * Temporal's Reset, read and made the way Baton needs it.
 *
 * Reading: a run made by a Reset has, in its history, a WorkflowTaskFailed event with cause
 * RESET_WORKFLOW naming the run it replaced (base) and itself (new). The runs it replaced went on
 * past the reset point, handing out generations of phases that the new run must not hand out again.
 *
 * Making: `baton reset <run> --to-phase <id>` finds the workflow task that started the phase (its
 * latest generation) and resets the run to it, so that the phase and everything the run did after
 * it are done again. The Web UI's Reset dialog offers event ids only; this picks the right one.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { ResetOrigin } from '../activities/types.js';
import type { Reset } from '../core/api/status.js';
import type { HandoffPackage } from '../core/handoff/schema.js';
import { decode, time, type HistoryEvent } from './history.js';

const { EventType, WorkflowTaskFailedCause } = proto.temporal.api.enums.v1;

/** Activities whose input is a phase's package. */
const PACKAGE_ACTIVITIES = new Set(['runPhase', 'handOffToAgent', 'compensatePhase']);
/** Runs that hand out phases: the phase's work, not its rollback. */
const PHASE_ACTIVITIES = new Set(['runPhase', 'handOffToAgent']);
/** How many replaced runs a reset run reads back through, at most. */
const MAX_RUNS_READ = 50;

export async function fetchEvents(client: Client, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

/** Every reset recorded in a history (a run reset twice carries the first one in the events it copied), oldest first. */
export function resetsIn(events: readonly HistoryEvent[]): Reset[] {
  const resets: Reset[] = [];
  for (const event of events) {
    const a = event.workflowTaskFailedEventAttributes;
    if (event.eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED || a?.cause !== WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW) continue;
    resets.push({
      run_id: a.newRunId ?? '',
      base_run_id: a.baseRunId ?? '',
      event_id: Number(event.eventId ?? 0),
      reason: a.failure?.message ?? '',
      at: time(event).toISOString(),
    });
  }
  return resets;
}

interface ScheduledPhase {
  eventId: number;
  /** The workflow task that scheduled it: resetting to it makes the run decide it again. */
  workflowTaskCompletedEventId: number;
  type: string;
  pkg: HandoffPackage;
  at: Date;
}

/** Every activity scheduled with a phase's package, in history order. */
export function scheduledPhases(events: readonly HistoryEvent[]): ScheduledPhase[] {
  const found: ScheduledPhase[] = [];
  for (const event of events) {
    const a = event.activityTaskScheduledEventAttributes;
    if (event.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED || !a) continue;
    const type = a.activityType?.name ?? '';
    if (!PACKAGE_ACTIVITIES.has(type)) continue;
    const pkg = decode<HandoffPackage>(a.input);
    if (!pkg) continue;
    found.push({ eventId: Number(event.eventId ?? 0), workflowTaskCompletedEventId: Number(a.workflowTaskCompletedEventId ?? 0), type, pkg, at: time(event) });
  }
  return found;
}

/** The highest generation each phase was handed out with in a history. */
export function phaseGenerations(events: readonly HistoryEvent[]): Record<string, number> {
  const generations: Record<string, number> = {};
  for (const { pkg } of scheduledPhases(events)) {
    const key = String(pkg.to_phase);
    if (typeof pkg.generation === 'number' && pkg.generation > (generations[key] ?? 0)) generations[key] = pkg.generation;
  }
  return generations;
}

function mergeMax(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, g] of Object.entries(from)) if (g > (into[key] ?? 0)) into[key] = g;
}

/**
 * What the run `runId` (made by a Reset) needs to know: the reset that made it, and the
 * generations the runs it replaced handed out: the base run, the runs those replaced in turn, and
 * every other run of the same chain (a reset of an earlier segment of a run that continued as new
 * also ends the segments after it).
 */
export async function readResetOrigin(client: Client, workflowId: string, runId: string): Promise<ResetOrigin> {
  const own = await fetchEvents(client, workflowId, runId);
  const reset = resetsIn(own).filter((r) => r.run_id === runId).at(-1) ?? null;
  const firstRunId = own[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId ?? '';
  const generations: Record<string, number> = {};
  // The base run, then the runs its own resets replaced; a list of the workflow id's runs adds the
  // rest of the chain, each kept if its start event names the same first run (a run id used again
  // for an unrelated run does not).
  const toRead = new Set<string>(reset ? [reset.base_run_id] : []);
  const listed = new Set<string>();
  try {
    for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId.replace(/'/g, "\\'")}'` })) listed.add(run.runId);
  } catch {
    // Visibility is a help here, not a need: the base run and its own bases are read regardless.
  }
  for (const other of listed) toRead.add(other);
  const read = new Set<string>([runId]);
  for (const next of toRead) {
    if (read.has(next) || read.size > MAX_RUNS_READ) continue;
    read.add(next);
    const events = await fetchEvents(client, workflowId, next);
    const sameChain = events[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId === firstRunId;
    if (!sameChain && !(reset && next === reset.base_run_id)) continue;
    mergeMax(generations, phaseGenerations(events));
    for (const earlier of resetsIn(events)) if (earlier.base_run_id) toRead.add(earlier.base_run_id);
  }
  return { reset, generations };
}

export interface ResetPlan {
  workflowId: string;
  /** The Temporal run to reset (the current one, or an earlier segment that started the phase). */
  runId: string;
  /** The WorkflowTaskCompleted event of the task that started the phase. */
  eventId: number;
  phase: string;
  generation: number;
  startedAt: string;
  /** Phases started at or after that point: they run again, as new generations. */
  rerun: string[];
  /** Phases in flight at that point: Temporal dispatches them again, with the same package. */
  inFlight: string[];
}

/** Where `baton reset --to-phase` resets to: the workflow task that started the phase's latest generation. */
export async function planResetToPhase(client: Client, workflowId: string, phase: string): Promise<ResetPlan> {
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  for (let runs = 0; runs < MAX_RUNS_READ && runId; runs++) {
    const thisRun: string = runId;
    const events = await fetchEvents(client, workflowId, thisRun);
    const scheduled = scheduledPhases(events).filter((s) => PHASE_ACTIVITIES.has(s.type));
    const ofPhase = scheduled.filter((s) => String(s.pkg.to_phase) === phase);
    if (ofPhase.length > 0) {
      const latest = Math.max(...ofPhase.map((s) => s.pkg.generation));
      const start = ofPhase.find((s) => s.pkg.generation === latest)!;
      const eventId = start.workflowTaskCompletedEventId;
      const closed = closedActivities(events);
      const rerun = unique(scheduled.filter((s) => s.workflowTaskCompletedEventId >= eventId).map((s) => String(s.pkg.to_phase)));
      const inFlight = unique(
        scheduled
          .filter((s) => s.workflowTaskCompletedEventId < eventId && (closed.get(s.eventId) ?? Infinity) > eventId)
          .map((s) => String(s.pkg.to_phase))
          .filter((k) => !rerun.includes(k)),
      );
      return { workflowId, runId: thisRun, eventId, phase, generation: latest, startedAt: start.at.toISOString(), rerun, inFlight };
    }
    // Started in an earlier segment of a run that continued as new? Look there.
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  throw new Error(`phase ${phase} has not been started in run ${workflowId}, so there is no point to reset to before it; \`baton status ${workflowId}\` lists its phases`);
}

/** Scheduled event id → the id of the event that closed the activity. */
function closedActivities(events: readonly HistoryEvent[]): Map<number, number> {
  const closed = new Map<number, number>();
  for (const event of events) {
    const attrs =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    if (attrs?.scheduledEventId) closed.set(Number(attrs.scheduledEventId), Number(event.eventId ?? 0));
  }
  return closed;
}

function unique(keys: string[]): string[] {
  return [...new Set(keys)];
}

/** Resets the run as planned (signals sent after the point are applied again, Temporal's default); returns the new run's id. */
export async function resetRun(client: Client, plan: ResetPlan, reason: string): Promise<string> {
  type Request = proto.temporal.api.workflowservice.v1.IResetWorkflowExecutionRequest;
  const request: Request = {
    namespace: client.options.namespace,
    workflowExecution: { workflowId: plan.workflowId, runId: plan.runId },
    reason,
    // An int64 field: the gRPC encoder takes a plain number.
    workflowTaskFinishEventId: plan.eventId as unknown as Request['workflowTaskFinishEventId'],
    requestId: randomUUID(),
    identity: client.options.identity,
  };
  const response: proto.temporal.api.workflowservice.v1.IResetWorkflowExecutionResponse = await client.workflowService.resetWorkflowExecution(request);
  return response.runId ?? '';
}
