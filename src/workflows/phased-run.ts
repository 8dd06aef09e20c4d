/**
 * `phasedRun`: one durable run of a plan. Holds the dependency graph, starts every ready
 * phase as an activity on its resource class's task queue, and keeps going through worker
 * crashes, since all of its state is rebuilt from Temporal history.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrchestratorActivities, PhaseActivities, PhaseFailureDetails } from '../activities/types.js';
import { planWorkdir } from '../handoff/build.js';
import { phaseSettings } from '../plan/phase-settings.js';
import { PlanError } from '../plan/problems.js';
import { phaseKey, type RunInput } from '../plan/schema.js';
import { checkRun } from '../plan/validate.js';
import { pauseSignal, resumeSignal, retryPhaseSignal, skipPhaseSignal, statusQuery } from './definitions.js';
import { renderDetails } from './details.js';
import { RunBook } from './run-book.js';
import type { RunStatus } from './status.js';

const phaseActivities = proxyActivities<PhaseActivities>({
  // Overridden per phase (task queue, timeout, retries); these are only the fallbacks.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '30 seconds',
});

const orchestratorActivities = proxyLocalActivities<OrchestratorActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

export async function phasedRun(input: RunInput): Promise<RunStatus> {
  const { plan, config } = parseInput(input);
  const info = workflowInfo();
  const book = new RunBook(info.workflowId, plan, config, new Date());
  let changes = 0;
  const changed = (): void => {
    changes++;
  };
  const notice = (message: string | undefined): void => {
    if (!message) return;
    log.warn(message);
    book.notices.push(message);
    changed();
  };

  setHandler(statusQuery, () => book.status(null), { description: 'The run and every phase: state, attempts, task queue, times, output.' });
  setHandler(pauseSignal, () => {
    book.paused = true;
    changed();
  }, { description: 'Start no new phase until resume; phases in flight finish.' });
  setHandler(resumeSignal, () => {
    book.paused = false;
    changed();
  }, { description: 'Start phases again after pause.' });
  setHandler(retryPhaseSignal, (request) => {
    const key = requestedPhase(request, 'retryPhase');
    if (typeof key !== 'string') return notice(key.error);
    notice(book.retry(key, request.downstream === true));
    changed();
  }, { description: 'Run a failed or completed phase again: {"phase": <id>, "downstream": true|false}.' });
  setHandler(skipPhaseSignal, (request) => {
    const key = requestedPhase(request, 'skipPhase');
    if (typeof key !== 'string') return notice(key.error);
    notice(book.skip(key));
    changed();
  }, { description: 'Mark a pending or failed phase skipped so its dependants can run: {"phase": <id>}.' });

  const workdir = planWorkdir(plan);
  const baseDir = plan.base_dir ?? null;

  // Exports run one after another, each with the status as it is when it runs, so a slow
  // write can never overwrite a newer one.
  let exportChain: Promise<void> = Promise.resolve();
  const exportContext = (final?: RunStatus): Promise<void> => {
    exportChain = exportChain
      .then(() => orchestratorActivities.writeExecutionContext(final ?? book.status(null), workdir, baseDir))
      // The export is a convenience copy of the status query; failing to write it must not stop the run.
      .catch((err: unknown) => notice(`could not write execution_context.json: ${failureMessage(err)}`));
    return exportChain;
  };

  const runOne = async (key: string): Promise<void> => {
    const phase = book.phasesByKey.get(key)!;
    const settings = phaseSettings(phase, config);
    const handoff = book.startPhase(key, new Date());
    changed();
    try {
      const result = await phaseActivities.runPhase.executeWithOptions(
        {
          taskQueue: settings.taskQueue,
          startToCloseTimeout: `${settings.timeoutSeconds} seconds`,
          heartbeatTimeout: '30 seconds',
          retry: {
            maximumAttempts: settings.retries + 1,
            initialInterval: '1 second',
            backoffCoefficient: 2,
            maximumInterval: '1 minute',
          },
          summary: `Phase ${key} · ${phase.name} · ${phase.resource_class}`,
        },
        [handoff],
      );
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
    } catch (err) {
      if (isCancellation(err)) throw err;
      const details = failureDetails(err);
      book.failPhase(key, failureMessage(err), details?.attempt ?? settings.retries + 1, details?.executed_by, new Date());
    }
    changed();
    await exportContext();
  };

  const inFlight = new Set<Promise<void>>();
  let seen = -1;
  while (!book.allDone()) {
    if (config.failed_phase_policy === 'fail' && book.failedKeys().length > 0) {
      if (inFlight.size === 0) break;
    } else if (!book.paused) {
      for (const key of book.readyPhases()) {
        if (book.running() >= config.max_parallel_phases) break;
        const promise = runOne(key).finally(() => {
          inFlight.delete(promise);
          changed(); // the loop may be waiting for in-flight work to drain
        });
        inFlight.add(promise);
      }
    }
    setCurrentDetails(renderDetails(book.status(null)));
    seen = changes;
    await condition(() => changes !== seen);
  }

  // Let every phase's bookkeeping (its execution_context.json export) finish before the run closes.
  await Promise.all(inFlight);
  const final = book.status(new Date());
  setCurrentDetails(renderDetails(final));
  await exportContext(final);
  if (final.state === 'failed') {
    throw ApplicationFailure.create({
      type: 'PhaseFailed',
      message: final.held_reason ?? 'a phase failed',
      nonRetryable: true,
      details: [final],
    });
  }
  return final;
}

function parseInput(input: RunInput): ReturnType<typeof checkRun> {
  try {
    if (!input || typeof input !== 'object' || !('plan' in input)) {
      throw new PlanError('the workflow input', ['expected {"plan": {...}, "config": {...}}; the plan goes under "plan"']);
    }
    return checkRun(input.plan, input.config ?? {});
  } catch (err) {
    if (err instanceof PlanError) {
      // Nothing has started: failing now, with every problem listed, loses nothing.
      throw ApplicationFailure.create({ type: 'InvalidPlan', message: err.message, nonRetryable: true, details: [err.problems] });
    }
    throw err;
  }
}

/** Signal input comes from the UI's JSON dialog too, so it is checked rather than trusted. */
function requestedPhase(request: unknown, signal: string): string | { error: string } {
  const phase = request && typeof request === 'object' ? (request as { phase?: unknown }).phase : undefined;
  if (typeof phase === 'number' || (typeof phase === 'string' && phase.length > 0)) return phaseKey(phase);
  return { error: `${signal}: expected {"phase": <id>}, got ${JSON.stringify(request) ?? 'nothing'}` };
}

function failureDetails(err: unknown): PhaseFailureDetails | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const first = cause.details?.[0] as Partial<PhaseFailureDetails> | undefined;
    if (first && typeof first.attempt === 'number') return { attempt: first.attempt, executed_by: first.executed_by ?? '' };
  }
  return undefined;
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
