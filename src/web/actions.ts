/**
 * An operator's request from the page, sent to the run as the CLI sends it (an update, or a
 * cancellation): a refusal comes back at once and the page shows it; otherwise the status is watched
 * for a few seconds and the page hears the request was done once it shows it. (A run of workflow
 * code from before the operation updates takes a signal instead, and says it refused one in its
 * `notices`: those are watched for too.)
 */
import { z } from 'zod';
import type { PhaseStatus, RunStatus } from '../core/api/status.js';
import type { PhaseId } from '../core/plan/schema.js';
import { ACTIONS, type ActionRequest, type ActionResponse } from './api.js';
import type { RunAccess } from './source.js';

export const ActionRequestSchema = z.strictObject({
  action: z.enum(ACTIONS),
  phase: z.union([z.string().min(1).max(200), z.number().int().nonnegative()]).optional(),
  downstream: z.boolean().optional(),
  // The run checks the output itself (its bounds, credentials, artifacts, output_schema): only its shape here.
  to: z.enum(['agent', 'worker']).optional(),
  output: z.strictObject({ context: z.record(z.string(), z.unknown()).optional(), artifacts: z.record(z.string(), z.string()).optional() }).optional(),
});

/** The signal each phase action is, whose name starts the notice of a refusal. */
const SIGNAL = { retry: 'retryPhase', skip: 'skipPhase' } as const;

export interface ActionTiming {
  /** How long to watch for the outcome. */
  waitMs: number;
  intervalMs: number;
}

export const DEFAULT_TIMING: ActionTiming = { waitMs: 5_000, intervalMs: 200 };

/** Notices in `after` that `before` lacks (the run may drop old ones when it continues as new). */
export function newNotices(before: readonly string[], after: readonly string[]): string[] {
  const seen = new Map<string, number>();
  for (const n of before) seen.set(n, (seen.get(n) ?? 0) + 1);
  const added: string[] = [];
  for (const n of after) {
    const left = seen.get(n) ?? 0;
    if (left > 0) seen.set(n, left - 1);
    else added.push(n);
  }
  return added;
}

function idOf(status: RunStatus, key: string): PhaseId {
  return status.phases[key]?.id ?? (/^\d+$/.test(key) ? Number(key) : key);
}

/** What the status shows once the request was done, or undefined while it does not yet. */
function doneMessage(request: ActionRequest, key: string, before: PhaseStatus | undefined, after: RunStatus): string | undefined {
  const phase = after.phases[key];
  switch (request.action) {
    case 'retry':
      if (!phase || !before) return undefined;
      if (phase.generation === before.generation && phase.state === before.state) return undefined;
      return `Phase ${key} runs again${request.downstream ? ', and its dependants after it' : ''}: it is ${phase.state.replace('_', ' ')} now.`;
    case 'skip':
      return phase?.state === 'skipped' ? `Phase ${key} is skipped; its dependants may run.` : undefined;
    case 'mark-done':
      return phase?.state === 'completed' ? `Phase ${key} is marked done with your output; its dependants may run.` : undefined;
    case 'hand':
      if (!phase || !before) return undefined;
      if (phase.separate_agent === before.separate_agent && phase.generation === before.generation) return undefined;
      return request.to === 'agent' ? `Phase ${key} is handed to an external agent: it is ${phase.state.replace('_', ' ')} now.` : `Phase ${key} is handed to a worker: it is ${phase.state.replace('_', ' ')} now.`;
    case 'pause':
      return after.paused ? 'Paused: no new phase starts; phases in flight finish.' : undefined;
    case 'resume':
      return after.paused ? undefined : 'Resumed: phases start again as their dependencies finish.';
    default:
      return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function performAction(run: RunAccess, request: ActionRequest, timing: ActionTiming = DEFAULT_TIMING): Promise<ActionResponse> {
  const { executionStatus } = await run.describe();
  if (executionStatus !== 'running') return { outcome: 'refused', message: `The run has ended (${executionStatus}); it accepts nothing more.` };
  const needsPhase = request.action === 'retry' || request.action === 'skip' || request.action === 'mark-done' || request.action === 'hand';
  if (request.action === 'hand' && !request.to) return { outcome: 'refused', message: 'hand needs "to": "agent" or "worker".' };
  if (needsPhase && request.phase === undefined) return { outcome: 'refused', message: `${request.action} needs a phase.` };
  const key = String(request.phase ?? '');
  const before = await run.status();

  // Retry, skip, pause and resume are updates: a refusal comes back at once, in the run's words.
  const operate = async (send: () => Promise<unknown>): Promise<ActionResponse | undefined> =>
    send().then(
      () => undefined,
      (err: unknown) => ({ outcome: 'refused' as const, message: (err as Error).message }),
    );
  let refused: ActionResponse | undefined;
  switch (request.action) {
    case 'retry':
      refused = await operate(() => run.retry(idOf(before, key), request.downstream === true));
      break;
    case 'skip':
      refused = await operate(() => run.skip(idOf(before, key)));
      break;
    case 'mark-done':
      refused = await operate(() => run.markDone(idOf(before, key), request.output ?? {}));
      break;
    case 'hand':
      refused = await operate(() => run.hand(idOf(before, key), request.to!));
      break;
    case 'pause':
      refused = await operate(() => run.pause());
      break;
    case 'resume':
      refused = await operate(() => run.resume());
      break;
    case 'abort': {
      await run.abort();
      const deadline = Date.now() + timing.waitMs;
      while (Date.now() < deadline) {
        const now = await run.describe();
        if (now.executionStatus !== 'running') return { outcome: 'done', message: `The run was aborted: it ended ${now.executionStatus}.` };
        await sleep(timing.intervalMs);
      }
      return {
        outcome: 'sent',
        message: 'Cancellation requested: each phase in flight stops at its next heartbeat, its rollback runs, then the run ends cancelled.',
      };
    }
  }

  if (refused) return refused;
  // Done once the status shows it (a run of older workflow code took a signal, and refuses in its notices).
  const signal = needsPhase ? SIGNAL[request.action as keyof typeof SIGNAL] : undefined;
  const deadline = Date.now() + timing.waitMs;
  for (;;) {
    const after = await run.status();
    const refusals = signal ? newNotices(before.notices, after.notices).filter((n) => n.startsWith(`${signal}:`)) : [];
    if (refusals.length > 0) return { outcome: 'refused', message: refusals.join('\n') };
    const done = doneMessage(request, key, before.phases[key], after);
    if (done) return { outcome: 'done', message: done };
    if (Date.now() >= deadline) {
      return { outcome: 'sent', message: `Sent ${signal ?? request.action}; the run has not shown it yet (is an orchestrator worker running?).` };
    }
    await sleep(timing.intervalMs);
  }
}
