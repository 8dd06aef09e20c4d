/**
 * Running one phase, in the workflow: on a worker of its resource class (inline), or handed
 * to an external agent and awaited durably, with the fallbacks the plan and config ask for.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { AgentHandoff, OrchestratorActivities, PhaseActivities, PhaseFailureDetails, PhaseRunResult } from '../../activities/types.js';
import { planWorkdir } from '../handoff/build.js';
import type { HandoffPackage } from '../handoff/schema.js';
import { phaseSettings } from '../plan/phase-settings.js';
import type { RunBook } from './run-book.js';

const phaseActivities = proxyActivities<PhaseActivities>({
  // Overridden per phase (task queue, timeout, retries); these are only the fallbacks.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '30 seconds',
});

/** The orchestrator's own activities, on the workflow's task queue `baton`. */
export const orchestratorActivities = proxyActivities<OrchestratorActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5, initialInterval: '1 second' },
});

/** Quick, frequent lookups whose results need not be activities of their own in history. */
export const orchestratorLocalActivities = proxyLocalActivities<OrchestratorActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

export interface DriverContext {
  book: RunBook;
  /** Wakes the main loop: something it waits on may have changed. */
  changed: () => void;
  /** Tells the operator something the run did on its own (shown in the status's notices). */
  notice: (message: string) => void;
}

export function runPhase(ctx: DriverContext, key: string): Promise<void> {
  const { book } = ctx;
  // The common case goes straight to the phase: every promise workflow code creates costs a
  // stack-trace capture in the SDK, and at thousands of phases that adds up.
  const archived = book.archivedInputs(key);
  if (!book.refreshDue.has(key) && archived.length === 0) return dispatch(ctx, key);
  return prepareInputsAndRun(ctx, key, archived);
}

function dispatch(ctx: DriverContext, key: string): Promise<void> {
  const { book } = ctx;
  if (book.record(key).separate_agent) return runWithAgent(ctx, key);
  return runInline(ctx, key, book.startPhase(key, new Date(), false));
}

/** Reads archived outputs back, or refreshes dependencies' files, before the phase runs. */
async function prepareInputsAndRun(ctx: DriverContext, key: string, archived: string[]): Promise<void> {
  const { book } = ctx;
  if (archived.length > 0) {
    // Outputs that an earlier segment of a continued run archived: read back for this package.
    try {
      const outputs = await orchestratorActivities.archivedOutputs(book.archives, archived, planWorkdir(book.plan), book.plan.base_dir ?? null);
      for (const [dep, output] of Object.entries(outputs)) book.restoreOutput(dep, output);
    } catch (err) {
      return failUnprepared(book, key, err);
    }
  }
  if (book.refreshDue.delete(key)) {
    try {
      const refreshed = await orchestratorActivities.refreshArtifacts(book.dependencyOutputs(key), book.plan.workdir ?? planWorkdir(book.plan), book.plan.base_dir ?? null);
      for (const [dep, output] of Object.entries(refreshed)) book.replaceOutput(dep, output);
    } catch (err) {
      return failUnprepared(book, key, err);
    }
  }
  return dispatch(ctx, key);
}

/** The phase's inputs could not be prepared: it fails without running (an abort goes on up). */
function failUnprepared(book: RunBook, key: string, err: unknown): void {
  if (isCancellation(err)) throw err;
  book.startPhase(key, new Date(), false);
  book.failPhase(key, failureMessage(err), 0, undefined, new Date());
}

/** Runs an abandoned phase's rollback on its own queue; the outcome is recorded, never thrown. */
export async function runCompensation(ctx: DriverContext, key: string): Promise<void> {
  const { book } = ctx;
  const phase = book.phasesByKey.get(key)!;
  const settings = phaseSettings(phase, book.config);
  book.compensationStarted(key, new Date());
  ctx.changed();
  try {
    await phaseActivities.compensatePhase.executeWithOptions(
      {
        taskQueue: settings.taskQueue,
        startToCloseTimeout: `${settings.timeoutSeconds} seconds`,
        heartbeatTimeout: '30 seconds',
        retry: { maximumAttempts: settings.retries + 1, initialInterval: '1 second' },
        summary: `Rollback of phase ${key} · ${phase.name}`,
      },
      [book.packageFor(key, new Date()), phase.compensate!],
    );
    book.compensationEnded(key, undefined, new Date());
  } catch (err) {
    book.compensationEnded(key, isCancellation(err) ? 'cancelled: the run was aborted during the rollback' : failureMessage(err), new Date());
    if (isCancellation(err)) throw err;
  }
  ctx.changed();
}

async function runInline(ctx: DriverContext, key: string, handoff: HandoffPackage): Promise<void> {
  const { book } = ctx;
  const phase = book.phasesByKey.get(key)!;
  const settings = phaseSettings(phase, book.config);
  const rec = book.record(key);
  let lostWorkers = 0;
  ctx.changed();
  for (;;) {
    rec.dispatches += 1;
    try {
      const result = await phaseActivities.runPhase.executeWithOptions(
        {
          activityId: book.activityId(key),
          taskQueue: settings.taskQueue,
          startToCloseTimeout: `${settings.timeoutSeconds} seconds`,
          heartbeatTimeout: `${book.config.heartbeat_timeout_s} seconds`,
          retry: { maximumAttempts: settings.retries + 1, initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
          summary: `Phase ${key} · ${phase.name} · ${phase.resource_class}`,
        },
        [handoff],
      );
      completeInline(book, key, result);
      ctx.changed(); // dependants can start now, while the export runs
      return;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // A worker that stops heartbeating died (or lost its network): the phase did not fail, so it
      // goes to another worker without spending the phase's own retries.
      if (isHeartbeatTimeout(err) && lostWorkers < book.config.worker_loss_retries) {
        lostWorkers += 1;
        rec.attempts += 1;
        ctx.notice(`phase ${key} lost its worker (no heartbeat for ${book.config.heartbeat_timeout_s}s); sending it to another worker (${lostWorkers} of ${book.config.worker_loss_retries})`);
        continue;
      }
      const details = failureDetails(err);
      book.failPhase(key, failureMessage(err), details?.attempt ?? settings.retries + 1, details?.executed_by, new Date());
      ctx.changed();
      return;
    }
  }
}

function completeInline(book: RunBook, key: string, result: PhaseRunResult): void {
  {
    book.completePhase(key, {
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
}

function isHeartbeatTimeout(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof TimeoutFailure && cause.timeoutType === 'HEARTBEAT';
}

async function runWithAgent(ctx: DriverContext, key: string): Promise<void> {
  const { book } = ctx;
  const { config } = book;
  const phase = book.phasesByKey.get(key)!;
  const handoff = book.startPhase(key, new Date(), true);
  ctx.changed();

  let handed: AgentHandoff;
  try {
    handed = await orchestratorActivities.handOffToAgent.executeWithOptions(
      { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 }, summary: `Hand phase ${key} · ${phase.name} to an agent` },
      [handoff],
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = failureMessage(err);
    if (config.on_handoff_failure === 'inline') {
      book.noteAgentFallback(key, `${reason}; a worker ran it instead (on_handoff_failure: inline)`);
      return runInline(ctx, key, book.startPhase(key, new Date(), false));
    }
    book.failPhase(key, reason, 1, undefined, new Date());
    return;
  }

  const timeoutSeconds = phase.agent_timeout_s ?? config.agent_timeout_s;
  const since = new Date();
  book.awaitAgent(key, { since: since.toISOString(), deadline: new Date(since.getTime() + timeoutSeconds * 1000).toISOString(), ...handed });
  ctx.changed();
  return awaitAgent(ctx, key);
}

/**
 * Waits for the agent's result until the phase's deadline, then applies on_agent_timeout.
 * Also how a run that continued as new picks up the phases its predecessor had handed out.
 */
export async function awaitAgent(ctx: DriverContext, key: string): Promise<void> {
  const { book } = ctx;
  const { config } = book;
  const phase = book.phasesByKey.get(key)!;
  const timeoutSeconds = phase.agent_timeout_s ?? config.agent_timeout_s;
  const rec = book.record(key);
  const generation = rec.generation;
  const deadline = rec.awaiting?.deadline ? Date.parse(rec.awaiting.deadline) : Date.now() + timeoutSeconds * 1000;
  // Durable: a timer in history, so the wait survives worker restarts and lasts days if need be.
  const reported = await condition(() => rec.state !== 'awaiting_agent' || rec.generation !== generation, Math.max(1, deadline - Date.now()));
  if (reported) return;

  const why = `no agent reported phase ${key} within ${timeoutSeconds}s`;
  if ((phase.on_agent_timeout ?? config.on_agent_timeout) === 'inline') {
    book.noteAgentFallback(key, `${why}; a worker on ${rec.task_queue} ran it instead (on_agent_timeout: inline)`);
    return runInline(ctx, key, book.startPhase(key, new Date(), false));
  }
  book.failPhase(key, `${why} (on_agent_timeout: fail); send retryPhase to hand it out again, or skipPhase to move on`, 1, undefined, new Date());
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
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
