/**
 * The `runPhase` activity: a phase worker executes one phase from its package.
 *
 * What ends an attempt decides what happens next. The phase failing spends one of its retries;
 * anything else interrupts it without spending one (see attempt-ledger.ts): Temporal's Pause,
 * Reset and the run's own cancellation (the attempt reports itself cancelled, and Temporal does
 * what the control means: holds it, starts it afresh, or ends it), a worker shutting down past
 * its grace, a worker that cannot run the phase here (another one takes it).
 */
import os from 'node:os';
import { CancelledFailure } from '@temporalio/common';
import { cancellationDetails, Context } from '@temporalio/activity';
import proto from '@temporalio/proto';
import { phaseInterruptedSignal } from '../core/api/definitions.js';
import { failure, finalFailure, FAILURES, type FailureType } from '../core/api/failures.js';
import type { PhaseInterrupted } from '../core/api/messages.js';
import { withPreviousContext } from '../core/handoff/build.js';
import { HandoffPackageSchema, type HandoffPackage } from '../core/handoff/schema.js';
import { zodProblems } from '../core/plan/problems.js';
import { defaultExecutor, executePhase, PhaseExecutionError } from '../runner/execute-phase.js';
import type { PhaseHandlers } from '../runner/handlers.js';
import { HEARTBEATS_STOPPED, ledgerAtStart, unrecordedAttempts, withLedger, type AttemptLedger } from './attempt-ledger.js';
import { compensatePhase } from './compensate.js';
import { whileHeartbeating } from './keep-alive.js';
import type { PhaseActivities, PhaseFailureDetails, PhaseRunResult } from './types.js';

const { TimeoutType } = proto.temporal.api.enums.v1;

/** What the worker around these activities wants to hear about. */
export interface PhaseActivityEvents {
  /** A phase could not run on this worker (see WorkerCannotRun). */
  cannotRun?(reason: string): void;
  /** A phase ran here, whatever its outcome. */
  ran?(): void;
  /** Where phases' commands run on this worker (`baton worker --root`). */
  root?: string;
}

export function createPhaseActivities(handlers: PhaseHandlers = {}, events: PhaseActivityEvents = {}): PhaseActivities {
  return {
    compensatePhase,
    async runPhase(transported: HandoffPackage): Promise<PhaseRunResult> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const executedBy = defaultExecutor();
      const details: PhaseFailureDetails = { attempt, executed_by: executedBy };
      const parsed = HandoffPackageSchema.safeParse(withPreviousContext(transported));
      if (!parsed.success) throw failure('InvalidHandoff', `the handoff package is not valid: ${zodProblems(parsed.error).join('; ')}`, details);
      const handoff = parsed.data;
      const key = String(handoff.to_phase);
      const unrecorded = unrecordedAttempts(ctx.info.heartbeatDetails, attempt);
      const ended = unrecorded > 0 ? await howLastAttemptEnded() : { ending: 'lost' as const, why: HEARTBEATS_STOPPED };
      const ledger = ledgerAtStart(ctx.info.heartbeatDetails, attempt, ended.ending, ended.why);
      const retries = handoff.execution_instructions.retries;
      if (ledger.failures > retries) {
        // The attempt before ran past its timeout on the phase's last try; Temporal's extra attempts are for interruptions.
        throw finalFailure('PhaseTimedOut', `phase ${key} (${handoff.phase_name}) ran past its timeout of ${handoff.execution_instructions.timeout_s}s on its last try (retries ${retries} used up)`, details);
      }
      if (ledger.last?.kind === 'interruption') await sayInterrupted(handoff, attempt, ledger);
      const beat = withLedger(ledger, { phase: key, worker: THIS_WORKER });
      try {
        const result = await whileHeartbeating(() => executePhase(handoff, {
          attempt,
          // The workflow names each dispatch `phase-<key>-g<generation>-d<dispatch>`.
          dispatch: Number(/-d(\d+)$/.exec(ctx.info.activityId)?.[1] ?? 1),
          dispatchedIn: ctx.info.workflowExecution?.runId,
          writeHandoffFiles: handoff.execution_instructions.save_handoff,
          seals: true,
          ...(events.root ? { root: events.root } : {}),
          handlers,
          executedBy,
          signal: ctx.cancellationSignal,
          heartbeat: (d) => ctx.heartbeat(d === undefined ? beat : withLedger(ledger, { phase: key, worker: THIS_WORKER, progress: d })),
        }), beat);
        events.ran?.();
        return result;
      } catch (err) {
        throw attemptOutcome(err, { handoff, ledger, details, events });
      }
    },
  };
}

interface AttemptContext {
  handoff: HandoffPackage;
  ledger: AttemptLedger;
  details: PhaseFailureDetails;
  events: PhaseActivityEvents;
}

/** What this attempt's end means, as the error the activity reports (recording it in the ledger first). */
function attemptOutcome(err: unknown, at: AttemptContext): Error {
  const ctx = Context.current();
  const key = String(at.handoff.to_phase);
  const record = (ledger: AttemptLedger): void => ctx.heartbeat(withLedger(ledger, { phase: key, worker: THIS_WORKER }));
  const why = cancellationDetails();
  if (ctx.cancellationSignal.aborted && why) {
    // Temporal stopped the attempt. The run's own cancellation ends the phase; a Reset starts it
    // afresh (a full set of retries); Pause, a worker shutdown or a vanished run interrupt it.
    if (why.reset) record({ failures: 0, interruptions: 0, last: { kind: 'interruption', why: 'reset by an operator' } });
    else if (!why.cancelRequested && !why.notFound) record({ ...at.ledger, interruptions: at.ledger.interruptions + 1, last: { kind: 'interruption', why: interruptionCause(why) } });
    return new CancelledFailure(interruptionCause(why));
  }
  if (err instanceof PhaseExecutionError && err.type === 'WorkerCannotRun') {
    at.events.cannotRun?.(err.message);
    const ledger: AttemptLedger = { ...at.ledger, interruptions: at.ledger.interruptions + 1, last: { kind: 'interruption', why: `the worker ${defaultExecutor()} could not run it` } };
    record(ledger);
    if (lastAttempt()) return finalFailure('WorkerLost', `${err.message}; no attempts are left for another worker to try (worker_loss_retries)`, at.details);
    return failure('WorkerCannotRun', `${err.message}; another worker of ${at.handoff.execution_instructions.task_queue} will take it`, at.details);
  }
  if (err instanceof PhaseExecutionError && err.type === 'StoreUnavailable') {
    // The store failed, not the phase: an interruption, tried again (here or on another worker)
    // without spending a retry. The worker keeps taking work: an outage of the store is everyone's.
    const ledger: AttemptLedger = { ...at.ledger, interruptions: at.ledger.interruptions + 1, last: { kind: 'interruption', why: 'the store could not be reached' } };
    record(ledger);
    if (lastAttempt()) return finalFailure('WorkerLost', `${err.message}; no attempts are left (worker_loss_retries)`, at.details);
    return failure('StoreUnavailable', err.message, at.details);
  }
  at.events.ran?.();
  const { type, message } = phaseFailure(err);
  const ledger: AttemptLedger = { ...at.ledger, failures: at.ledger.failures + 1, last: { kind: 'failure', why: type } };
  record(ledger);
  const retries = at.handoff.execution_instructions.retries;
  if (!FAILURES[type].retryable) return failure(type, message, at.details);
  if (ledger.failures > retries) {
    const tries = `${ledger.failures} ${ledger.failures === 1 ? 'try' : 'tries'}`;
    return finalFailure(type, retries === 0 ? message : `${message} (failed ${tries}: retries ${retries} used up)`, at.details);
  }
  return failure(type, message, at.details);
}

function phaseFailure(err: unknown): { type: FailureType; message: string } {
  if (err instanceof PhaseExecutionError) return { type: err.type, message: err.message };
  return { type: 'PhaseError', message: err instanceof Error ? err.message : String(err) };
}

function interruptionCause(why: NonNullable<ReturnType<typeof cancellationDetails>>): string {
  if (why.cancelRequested) return 'the run was cancelled';
  if (why.paused) return 'paused by an operator';
  if (why.reset) return 'reset by an operator';
  if (why.workerShutdown) return 'its worker shut down';
  if (why.timedOut) return 'timed out';
  if (why.notFound) return 'its run is gone (terminated or reset)';
  return 'cancelled';
}

/**
 * Tells the run that the attempt before this one was interrupted (a notice in its status): the
 * workflow cannot see attempts Temporal retries. Best effort: the phase runs whether or not it is heard.
 */
async function sayInterrupted(handoff: HandoffPackage, attempt: number, ledger: AttemptLedger): Promise<void> {
  const ctx = Context.current();
  const report: PhaseInterrupted = {
    phase: handoff.to_phase,
    generation: handoff.generation,
    attempt,
    reason: (ledger.last?.why ?? 'interrupted').slice(0, 500),
    interruptions: ledger.interruptions,
  };
  ctx.log.info(`phase ${String(handoff.to_phase)}: attempt ${attempt} after an interrupted one (${report.reason})`);
  const run = ctx.info.workflowExecution?.workflowId ?? handoff.execution_id;
  try {
    await ctx.client.workflow.getHandle(run).signal(phaseInterruptedSignal, report);
  } catch (err) {
    ctx.log.warn(`could not tell run ${run} that phase ${String(handoff.to_phase)} was interrupted: ${(err as Error).message}`);
  }
}

/**
 * This worker process, in every heartbeat of its attempts: its identity as the SDK names it by
 * default (`baton worker` keeps the default) and when it started, so that a worker restarted with
 * the same pid and host (a container's) is not taken for the one before it.
 */
const THIS_WORKER = `${process.pid}@${os.hostname()}/${Math.round(Date.now() - process.uptime() * 1000)}`;

/**
 * How the attempt before this one ended, when it recorded nothing: Temporal's start-to-close
 * timeout (the phase ran too long: its failure), or anything else (its heartbeats stopped), with
 * only what can be seen of why. Its last heartbeat names the worker process that ran it: when that
 * is this one, the worker did not die (the server restarted, or the connection dropped); otherwise
 * nobody here knows, and the notice does not guess.
 */
async function howLastAttemptEnded(): Promise<{ ending: 'timed out' | 'lost'; why: string }> {
  const ctx = Context.current();
  const before = ctx.info.heartbeatDetails as { worker?: unknown } | undefined;
  const worker = typeof before?.worker === 'string' ? before.worker : undefined;
  const lost = { ending: 'lost' as const, why: worker ? HEARTBEATS_STOPPED.replace('its worker may', `its worker (${worker.split('/')[0]}) may`) : HEARTBEATS_STOPPED };
  const workflowId = ctx.info.workflowExecution?.workflowId;
  if (!workflowId) return lost;
  try {
    const described = await ctx.client.workflowService.describeWorkflowExecution({ namespace: ctx.info.workflowNamespace, execution: { workflowId } });
    const mine = described.pendingActivities?.find((a) => a.activityId === ctx.info.activityId);
    if (mine?.lastFailure?.timeoutFailureInfo?.timeoutType === TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE) return { ending: 'timed out', why: 'ran past its timeout' };
  } catch {
    // What Temporal says of it is not needed to tell whether this worker ran it.
  }
  if (worker === THIS_WORKER) {
    return { ending: 'lost', why: `its heartbeats stopped reaching Temporal, though its worker (${worker.split('/')[0]}, this one) kept running: the server restarted, or the connection dropped` };
  }
  return lost;
}

function lastAttempt(): boolean {
  const { attempt, retryPolicy } = Context.current().info;
  const max = retryPolicy?.maximumAttempts ?? 0;
  return max > 0 && attempt >= max;
}

