/**
 * `baton history <run>`: the run's timeline, read from Temporal history, which is the audit
 * trail: every phase attempt (where, by whom, how long, from which package), every signal and
 * agent result, and how the run ended.
 */
import { defaultPayloadConverter, type Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { PhaseRunResult } from '../activities/types.js';
import type { AgentResult } from '../core/handoff/result.js';
import type { HandoffPackage } from '../core/handoff/schema.js';

export type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
type Payloads = proto.temporal.api.common.v1.IPayloads | null | undefined;
const { EventType } = proto.temporal.api.enums.v1;

export interface HistoryEntry {
  at: string;
  /** Seconds since the run started. */
  offset_s: number;
  phase?: string;
  kind: string;
  text: string;
}

export interface PhaseAttempt {
  phase: string;
  generation: number;
  attempt: number;
  task_queue: string;
  executed_by: string | null;
  started_at: string | null;
  finished_at: string | null;
  duration_s: number | null;
  outcome: 'completed' | 'failed' | 'timed out' | 'cancelled' | 'running';
  package_hash: string | null;
  error?: string;
  /** Temporal retries a phase's attempts itself and records only the last; this is why the one before it failed. */
  previous_failure?: string;
}

export interface RunHistory {
  run: string;
  entries: HistoryEntry[];
  attempts: PhaseAttempt[];
}

export function decode<T>(payloads: Payloads, index = 0): T | undefined {
  const payload = payloads?.payloads?.[index];
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload<T>(payload);
  } catch {
    return undefined;
  }
}

export function time(event: HistoryEvent): Date {
  const t = event.eventTime;
  return new Date(Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6));
}

/** The histories of every run in the chain (a run that continued as new), oldest first. */
async function chainHistories(client: Client, runId: string): Promise<HistoryEvent[][]> {
  const chain: HistoryEvent[][] = [];
  let execution: string | undefined;
  for (;;) {
    const events = (await client.workflow.getHandle(runId, execution).fetchHistory()).events ?? [];
    chain.unshift(events);
    execution = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    if (!execution) return chain;
  }
}

export async function readHistory(client: Client, runId: string): Promise<RunHistory> {
  const chain = await chainHistories(client, runId);
  const first = chain[0]?.[0];
  const start = first ? time(first) : new Date();
  const entries: HistoryEntry[] = [];
  const attempts: PhaseAttempt[] = [];
  const add = (event: HistoryEvent, kind: string, text: string, phase?: string): void => {
    const at = time(event);
    entries.push({ at: at.toISOString(), offset_s: (at.getTime() - start.getTime()) / 1000, kind, text, ...(phase === undefined ? {} : { phase }) });
  };
  for (const events of chain) readEvents(events, add, attempts);
  return { run: runId, entries, attempts };
}

type AddEntry = (event: HistoryEvent, kind: string, text: string, phase?: string) => void;

/** One run's events into timeline entries and phase attempts (event ids are per run). */
function readEvents(events: HistoryEvent[], add: AddEntry, attempts: PhaseAttempt[]): void {
  const scheduled = new Map<string, { type: string; pkg?: HandoffPackage; queue: string; attempt?: PhaseAttempt }>();
  for (const event of events) {
    const id = String(event.eventId ?? '');
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const input = decode<{ plan?: { name?: string; phases?: unknown[] }; continued?: { segment?: number } }>(event.workflowExecutionStartedEventAttributes?.input);
        const what = input?.continued ? `run continued as new (segment ${input.continued.segment ?? '?'})` : 'run started';
        add(event, 'run', `${what}: plan "${input?.plan?.name ?? '?'}" with ${input?.plan?.phases?.length ?? '?'} phases`);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        add(event, 'run', 'continuing as new: history near its limits (or continue_as_new_after_phases); state carried to the next run');
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const a = event.activityTaskScheduledEventAttributes!;
        const type = a.activityType?.name ?? '?';
        const queue = a.taskQueue?.name ?? '?';
        const pkg = type === 'runPhase' || type === 'handOffToAgent' || type === 'compensatePhase' ? decode<HandoffPackage>(a.input) : undefined;
        scheduled.set(id, { type, queue, ...(pkg ? { pkg } : {}) });
        if (pkg) {
          const phase = String(pkg.to_phase);
          const what = type === 'runPhase' ? `scheduled on ${queue}` : type === 'handOffToAgent' ? 'handed to an external agent' : `rollback scheduled on ${queue}`;
          add(event, type, `phase ${phase} (${pkg.phase_name}) generation ${pkg.generation} ${what}`, phase);
        }
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const a = event.activityTaskStartedEventAttributes!;
        const s = scheduled.get(String(a.scheduledEventId ?? ''));
        if (s?.type === 'runPhase' && s.pkg) {
          const attempt: PhaseAttempt = {
            phase: String(s.pkg.to_phase),
            generation: s.pkg.generation,
            attempt: a.attempt ?? 1,
            task_queue: s.queue,
            executed_by: a.identity ?? null,
            started_at: time(event).toISOString(),
            finished_at: null,
            duration_s: null,
            outcome: 'running',
            package_hash: null,
            ...(a.lastFailure ? { previous_failure: a.lastFailure.cause?.message ?? a.lastFailure.message ?? '' } : {}),
          };
          s.attempt = attempt;
          attempts.push(attempt);
        }
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const attrs =
          event.activityTaskCompletedEventAttributes ??
          event.activityTaskFailedEventAttributes ??
          event.activityTaskTimedOutEventAttributes ??
          event.activityTaskCanceledEventAttributes;
        const s = scheduled.get(String(attrs?.scheduledEventId ?? ''));
        if (!s?.pkg) break;
        const phase = String(s.pkg.to_phase);
        const label = `phase ${phase} (${s.pkg.phase_name})`;
        if (s.type === 'runPhase') {
          const attempt = s.attempt;
          const result = event.activityTaskCompletedEventAttributes ? decode<PhaseRunResult>(event.activityTaskCompletedEventAttributes.result) : undefined;
          const failure = event.activityTaskFailedEventAttributes?.failure ?? event.activityTaskTimedOutEventAttributes?.failure;
          const outcome: PhaseAttempt['outcome'] = result ? 'completed' : event.activityTaskFailedEventAttributes ? 'failed' : event.activityTaskTimedOutEventAttributes ? 'timed out' : 'cancelled';
          if (attempt) {
            attempt.finished_at = time(event).toISOString();
            attempt.duration_s = (Date.parse(attempt.finished_at) - Date.parse(attempt.started_at!)) / 1000;
            attempt.outcome = outcome;
            if (result) {
              attempt.executed_by = result.executed_by;
              attempt.package_hash = result.content_hash;
            }
            const message = failure?.cause?.message ?? failure?.message;
            if (message) attempt.error = message;
          }
          const by = result?.executed_by ?? attempt?.executed_by ?? '?';
          const detail = result ? `, package ${result.content_hash ?? 'unsealed'}` : failure ? `: ${failure.cause?.message ?? failure.message}` : '';
          add(event, 'runPhase', `${label} ${outcome} on ${by} after ${attempt?.attempt ?? '?'} attempt(s)${detail}`, phase);
        } else if (s.type === 'compensatePhase') {
          add(event, 'compensatePhase', `${label} rollback ${event.activityTaskCompletedEventAttributes ? 'completed' : 'failed'}`, phase);
        } else if (s.type === 'handOffToAgent' && event.activityTaskCompletedEventAttributes) {
          const handed = decode<{ package_hash: string; handoff_path: string }>(event.activityTaskCompletedEventAttributes.result);
          add(event, 'handOffToAgent', `${label} package ${handed?.package_hash ?? '?'} written to ${handed?.handoff_path ?? '?'}`, phase);
        }
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
        const a = event.workflowExecutionSignaledEventAttributes!;
        const input = decode<unknown>(a.input);
        add(event, 'signal', `signal ${a.signalName}${input === undefined ? '' : ` ${JSON.stringify(input)}`}${a.identity ? ` from ${a.identity}` : ''}`);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
        const a = event.workflowExecutionUpdateAcceptedEventAttributes!;
        const name = a.acceptedRequest?.input?.name ?? '?';
        const arg = decode<AgentResult & { phase?: unknown }>(a.acceptedRequest?.input?.args);
        if (name === 'completePhase' && arg) {
          const p = arg.provenance;
          add(event, 'update', `phase ${String(arg.phase)} result from ${p?.agent ?? p?.user}@${p?.host} (${p?.mode}): ${arg.outcome}, package ${arg.package_hash}, result ${arg.content_hash ?? 'unsealed'}`, String(arg.phase));
        } else {
          add(event, 'update', `update ${name}${arg ? ` ${JSON.stringify(arg)}` : ''}`);
        }
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
        const failure = event.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure;
        if (failure) add(event, 'update', `update refused: ${failure.message}`);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED: {
        const a = event.workflowTaskFailedEventAttributes;
        if (a?.cause !== proto.temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW) break;
        const reason = a.failure?.message ? ` (${a.failure.message})` : '';
        add(
          event,
          'reset',
          `run reset${reason}: Temporal run ${a.baseRunId ?? '?'} was reset to its event ${id} and ended; run ${a.newRunId ?? '?'} goes on from there and does again what that run did after it, phases as new generations (what it did is in its own history: temporal workflow show --run-id ${a.baseRunId ?? '?'})`,
        );
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
        add(event, 'run', 'cancellation requested (abort)');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        add(event, 'run', 'run completed');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        add(event, 'run', `run failed: ${event.workflowExecutionFailedEventAttributes?.failure?.message ?? ''}`);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        add(event, 'run', 'run cancelled');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        add(event, 'run', `run terminated: ${event.workflowExecutionTerminatedEventAttributes?.reason ?? ''}`);
        break;
      default:
        break;
    }
  }
}

export function renderHistory(history: RunHistory): string {
  const lines = [`run ${history.run}`, ''];
  for (const e of history.entries) lines.push(`${`+${e.offset_s.toFixed(1)}s`.padStart(9)}  ${e.text}`);
  lines.push('', 'phase attempts:');
  for (const a of history.attempts) {
    const took = a.duration_s === null ? '' : ` in ${a.duration_s.toFixed(1)}s`;
    lines.push(`  phase ${a.phase} gen ${a.generation} attempt ${a.attempt}: ${a.outcome}${took} on ${a.task_queue} by ${a.executed_by ?? '?'}${a.package_hash ? `, package ${a.package_hash.slice(0, 19)}…` : ''}${a.error ? ` (${a.error})` : ''}`);
    if (a.previous_failure) lines.push(`    the attempt before failed: ${a.previous_failure}`);
  }
  return lines.join('\n');
}
