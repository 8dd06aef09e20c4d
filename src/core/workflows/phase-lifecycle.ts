/**
 * Running one phase, in the workflow: on a worker of its resource class (inline), or handed to
 * an external agent and awaited durably, with the fallbacks the plan and config ask for; and an
 * abandoned phase's rollback. Each works on the phase's entry, which holds its state.
 */
import { storeArg } from './run-where.js';
import { ActivityFailure, ApplicationFailure, condition, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import type { AgentHandoff, PhaseFailureDetails, PhaseRunResult } from '../../activities/types.js';
import { planWorkdir } from '../handoff/build.js';
import type { HandoffPackage } from '../handoff/schema.js';
import { cancellation, orchestratorActivities, phaseActivities } from './activities.js';
import { phaseMaximumAttempts, phaseRetryPolicy, type PhaseEntry } from './phase-entry.js';
import type { RunBehaviour } from './behaviour.js';
import type { RunBook } from './run-book.js';

export interface PhaseRunContext {
  book: RunBook;
  behaviour: RunBehaviour;
  /** Wakes the main loop: something it waits on may have changed. */
  changed: () => void;
  /** Tells the operator something the run did on its own (shown in the status's notices). */
  notice: (message: string) => void;
}

export function runPhase(ctx: PhaseRunContext, entry: PhaseEntry): Promise<void> {
  // The common case goes straight to the phase: every promise workflow code creates costs a
  // stack-trace capture in the SDK, and at thousands of phases that adds up.
  const archived = ctx.book.archivedInputs(entry.key);
  if (!ctx.book.refreshDue.has(entry.key) && archived.length === 0) return dispatch(ctx, entry);
  return prepareInputsAndRun(ctx, entry, archived);
}

function dispatch(ctx: PhaseRunContext, entry: PhaseEntry): Promise<void> {
  if (entry.record.separate_agent) return runWithAgent(ctx, entry);
  return runInline(ctx, entry, entry.start(new Date(), false));
}

/** Reads archived outputs back, or refreshes dependencies' files, before the phase runs. */
async function prepareInputsAndRun(ctx: PhaseRunContext, entry: PhaseEntry, archived: string[]): Promise<void> {
  const { book } = ctx;
  if (archived.length > 0) {
    // Outputs that an earlier segment of a continued run archived: read back for this package.
    try {
      const outputs = await orchestratorActivities.archivedOutputs.executeWithOptions(cancellation(ctx.behaviour), [book.archives, archived, planWorkdir(book.plan), book.plan.base_dir ?? null, ...storeArg(book.config)]);
      for (const [dep, output] of Object.entries(outputs)) book.restoreOutput(dep, output);
    } catch (err) {
      return failUnprepared(entry, err);
    }
  }
  if (book.refreshDue.delete(entry.key)) {
    try {
      const refreshed = await orchestratorActivities.refreshArtifacts.executeWithOptions(cancellation(ctx.behaviour), [book.dependencyOutputs(entry.key), book.plan.workdir ?? planWorkdir(book.plan), book.plan.base_dir ?? null]);
      for (const [dep, output] of Object.entries(refreshed)) book.replaceOutput(dep, output);
    } catch (err) {
      return failUnprepared(entry, err);
    }
  }
  return dispatch(ctx, entry);
}

/** The phase's inputs could not be prepared: it fails without running (an abort goes on up). */
function failUnprepared(entry: PhaseEntry, err: unknown): void {
  if (isCancellation(err)) throw err;
  entry.start(new Date(), false);
  entry.fail(failureMessage(err), 0, undefined, new Date());
}

async function runInline(ctx: PhaseRunContext, entry: PhaseEntry, handoff: HandoffPackage): Promise<void> {
  const { book } = ctx;
  const phase = entry.definition;
  const settings = entry.settings();
  const spare = ctx.behaviour.interruptionsSpareRetries;
  // The worker counts which attempts failed and stops at `retries` (activities/attempt-ledger.ts);
  // the extra attempts are for interruptions, which do not spend the phase's retries.
  const maximumAttempts = phaseMaximumAttempts(settings.retries, book.config.worker_loss_retries, spare);
  let lostWorkers = 0;
  ctx.changed();
  for (;;) {
    entry.record.dispatches += 1;
    try {
      const result = await phaseActivities.runPhase.executeWithOptions(
        {
          activityId: entry.activityId(),
          taskQueue: settings.taskQueue,
          startToCloseTimeout: `${settings.timeoutSeconds} seconds`,
          heartbeatTimeout: `${book.config.heartbeat_timeout_s} seconds`,
          retry: phaseRetryPolicy(maximumAttempts),
          summary: `Phase ${entry.key} · ${phase.name} · ${phase.resource_class}`,
          ...cancellation(ctx.behaviour),
        },
        [handoff],
      );
      completeInline(entry, result);
      ctx.changed(); // dependants can start now, while the export runs
      return;
    } catch (err) {
      if (isCancellation(err)) throw err;
      if (ctx.book.cancelled && failureType(err) === 'PhaseCancelled') {
        // Waited for under an orderly abort, and reported by a worker that says so with a failure
        // rather than as cancelled: the same thing.
        entry.abandon(new Date());
        ctx.changed();
        return;
      }
      // Runs from before baton-interruptions-1: a worker that stops heartbeating died (or lost its
      // network): the phase did not fail, so it goes to another worker as a new activity.
      if (!spare && isHeartbeatTimeout(err) && lostWorkers < book.config.worker_loss_retries) {
        lostWorkers += 1;
        entry.record.attempts += 1;
        ctx.notice(`phase ${entry.key} lost its worker (no heartbeat for ${book.config.heartbeat_timeout_s}s); sending it to another worker (${lostWorkers} of ${book.config.worker_loss_retries})`);
        continue;
      }
      const details = failureDetails(err);
      const message = spare && isInterruption(err) ? interruptedTooOften(entry, err, book.config.worker_loss_retries) : failureMessage(err);
      // A failure the worker reported says which attempt it was; one it could not report (a timeout) ended the last.
      entry.fail(message, details?.attempt ?? maximumAttempts, details?.executed_by, new Date());
      ctx.changed();
      return;
    }
  }
}

/** Attempts that ended without the phase failing: lost or shut-down workers, workers that could not run it, Temporal's Pause and Reset. */
const INTERRUPTIONS = new Set(['WorkerLost', 'WorkerCannotRun', 'WorkerShutdown', 'ActivityReset', 'ActivityPause']);

function isInterruption(err: unknown): boolean {
  if (isHeartbeatTimeout(err)) return true;
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof ApplicationFailure && INTERRUPTIONS.has(cause.type ?? '');
}

function interruptedTooOften(entry: PhaseEntry, err: unknown, allowed: number): string {
  return `phase ${entry.key} (${entry.definition.name}) did not fail, but its attempts were interrupted more often than worker_loss_retries (${allowed}) allows; the last: ${failureMessage(err)}. Check the workers of ${entry.record.task_queue}, then send retryPhase {"phase": ${JSON.stringify(entry.record.id)}}`;
}

function completeInline(entry: PhaseEntry, result: PhaseRunResult): void {
  entry.complete({
    output: { context: result.context, artifacts: result.artifacts },
    attempts: result.attempt,
    executedBy: result.executed_by,
    startedAt: result.started_at,
    finishedAt: result.finished_at,
    contentHash: result.content_hash,
    handoffPath: result.handoff_path,
    handoffFallback: result.handoff_fallback,
  });
}

function isHeartbeatTimeout(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof TimeoutFailure && cause.timeoutType === 'HEARTBEAT';
}

async function runWithAgent(ctx: PhaseRunContext, entry: PhaseEntry): Promise<void> {
  const { config } = ctx.book;
  const phase = entry.definition;
  const handoff = entry.start(new Date(), true);
  ctx.changed();

  let handed: AgentHandoff;
  try {
    handed = await orchestratorActivities.handOffToAgent.executeWithOptions(
      { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 }, summary: `Hand phase ${entry.key} · ${phase.name} to an agent`, ...cancellation(ctx.behaviour) },
      [handoff],
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = failureMessage(err);
    if (config.on_handoff_failure === 'inline') {
      entry.noteAgentFallback(`${reason}; a worker ran it instead (on_handoff_failure: inline)`);
      return runInline(ctx, entry, entry.start(new Date(), false));
    }
    entry.fail(reason, 1, undefined, new Date());
    return;
  }

  const timeoutSeconds = phase.agent_timeout_s ?? config.agent_timeout_s;
  const since = new Date();
  entry.awaitAgent({ since: since.toISOString(), deadline: new Date(since.getTime() + timeoutSeconds * 1000).toISOString(), attempt: handoff.attempt, ...handed });
  ctx.changed();
  return awaitAgent(ctx, entry);
}

/**
 * Waits for the agent's result until the phase's deadline, then applies on_agent_timeout.
 * Also how a run that continued as new picks up the phases its predecessor had handed out.
 */
export async function awaitAgent(ctx: PhaseRunContext, entry: PhaseEntry): Promise<void> {
  const { config } = ctx.book;
  const phase = entry.definition;
  const timeoutSeconds = phase.agent_timeout_s ?? config.agent_timeout_s;
  const rec = entry.record;
  const generation = rec.generation;
  const deadline = rec.awaiting?.deadline ? Date.parse(rec.awaiting.deadline) : Date.now() + timeoutSeconds * 1000;
  // Durable: a timer in history, so the wait survives worker restarts and lasts days if need be.
  const reported = await condition(() => rec.state !== 'awaiting_agent' || rec.generation !== generation || entry.handBack, Math.max(1, deadline - Date.now()));
  if (entry.handBack) {
    // handPhase {"to": "worker"}: the phase keeps its slot and runs on a worker as a new generation.
    entry.handBack = false;
    entry.noteAgentFallback(`an operator handed it to a worker on ${rec.task_queue} (handPhase) while it awaited an agent`);
    return runInline(ctx, entry, entry.start(new Date(), false));
  }
  if (reported) return;

  const why = `no agent reported phase ${entry.key} within ${timeoutSeconds}s`;
  if ((phase.on_agent_timeout ?? config.on_agent_timeout) === 'inline') {
    entry.noteAgentFallback(`${why}; a worker on ${rec.task_queue} ran it instead (on_agent_timeout: inline)`);
    return runInline(ctx, entry, entry.start(new Date(), false));
  }
  entry.fail(`${why} (on_agent_timeout: fail); send retryPhase to hand it out again, or skipPhase to move on`, 1, undefined, new Date());
}

/** Runs an abandoned phase's rollback on its own queue; the outcome is recorded, never thrown. */
export async function runCompensation(ctx: PhaseRunContext, entry: PhaseEntry): Promise<void> {
  const phase = entry.definition;
  const settings = entry.settings();
  entry.compensationStarted(new Date());
  ctx.changed();
  try {
    await phaseActivities.compensatePhase.executeWithOptions(
      {
        taskQueue: settings.taskQueue,
        startToCloseTimeout: `${settings.timeoutSeconds} seconds`,
        heartbeatTimeout: '30 seconds',
        retry: { maximumAttempts: settings.retries + 1, initialInterval: '1 second' },
        summary: `Rollback of phase ${entry.key} · ${phase.name}`,
        ...cancellation(ctx.behaviour),
      },
      [ctx.book.packageFor(entry, new Date()), phase.compensate!],
    );
    entry.compensationEnded(undefined, new Date());
  } catch (err) {
    entry.compensationEnded(isCancellation(err) ? 'cancelled: the run was aborted during the rollback' : failureMessage(err), new Date());
    if (isCancellation(err)) throw err;
  }
  ctx.changed();
}

function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

function failureDetails(err: unknown): PhaseFailureDetails | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const first = cause.details?.[0] as Partial<PhaseFailureDetails> | undefined;
    if (first && typeof first.attempt === 'number') return { attempt: first.attempt, executed_by: first.executed_by ?? '' };
  }
  return undefined;
}

export function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  // A timeout's message can be empty (the time-skipping test server's are): say which timeout.
  if (cause instanceof TimeoutFailure && !cause.message) return `the activity's ${String(cause.timeoutType).toLowerCase().replace(/_/g, '-')} timeout passed`;
  if (cause) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
