/**
 * `phasedRun`: one durable run of a plan. Holds the dependency graph, starts every ready
 * phase on its resource class's task queue or hands it to an external agent, and keeps going
 * through worker crashes, since all of its state is rebuilt from Temporal history.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import { failure } from '../api/failures.js';
import { AgentResultSchema, type AgentResult } from '../handoff/result.js';
import { planWorkdir } from '../handoff/build.js';
import { compactPlan } from '../plan/compact.js';
import { PlanError, zodProblems } from '../plan/problems.js';
import { ContinuedSchema, phaseKey, type Continued, type RunInput } from '../plan/schema.js';
import { checkRun } from '../plan/validate.js';
import {
  agentProgressSignal,
  completePhaseUpdate,
  executePhaseUpdate,
  pauseSignal,
  resumeSignal,
  retryPhaseSignal,
  skipPhaseSignal,
  statusQuery,
} from '../api/definitions.js';
import { agentResultProblem, completeFromAgent } from './agent-results.js';
import { renderDetails } from './details.js';
import { awaitAgent, failureMessage, orchestratorActivities, orchestratorLocalActivities, runCompensation, runPhase } from './phase-driver.js';
import { RunBook } from './run-book.js';
import { SearchAttributeSync } from './search-attribute-sync.js';
import { parseRetryRequest } from './signal-input.js';
import type { RunStatus } from '../api/status.js';
import { boundedStatus, memoStatus } from './status-size.js';

/**
 * Runs recorded before these changes replay their old path: an export per finished phase, no
 * continue-as-new. New runs export on a 2-second cadence and continue as new when Temporal
 * suggests it (see `continueDue`).
 */
export const LARGE_PLANS_PATCH = 'baton-large-plans-1';
/** How often, at most, a run rewrites execution_context.json while it is busy. */
const EXPORT_INTERVAL_MS = 2_000;

export async function phasedRun(input: RunInput): Promise<RunStatus> {
  const { plan, config } = parseInput(input);
  const continued = parseContinued(input);
  const largePlans = patched(LARGE_PLANS_PATCH);
  const book = new RunBook(workflowInfo().workflowId, plan, config, continued ? new Date(continued.started_at) : new Date());
  if (continued) book.restore(continued);
  let changes = 0;
  /** executePhase calls waiting for their phase: the run does not continue as new under them. */
  let requestsWaiting = 0;
  const changed = (): void => {
    changes++;
  };
  const notice = (message: string | undefined): void => {
    if (!message) return;
    log.warn(message);
    book.notices.push(message);
    changed();
  };
  const workdir = planWorkdir(plan);
  const baseDir = plan.base_dir ?? null;

  setHandler(statusQuery, () => boundedStatus(book.status(null)), { description: 'The run and every phase: state, attempts, task queue, times, output, provenance.' });
  setHandler(pauseSignal, () => {
    book.paused = true;
    changed();
  }, { description: 'Start no new phase until resume; phases in flight finish.' });
  setHandler(resumeSignal, () => {
    book.paused = false;
    changed();
  }, { description: 'Start phases again after pause.' });
  setHandler(retryPhaseSignal, (raw) => {
    const request = parseRetryRequest(raw);
    if ('error' in request) return notice(request.error);
    const key = phaseKey(request.phase);
    if (request.resource_class !== undefined && !(request.resource_class in config.resource_classes)) {
      return notice(`retryPhase: resource class "${request.resource_class}" is not declared; use one of: ${Object.keys(config.resource_classes).join(', ')}`);
    }
    const refused = book.retry(key, request.downstream === true);
    if (refused) return notice(refused);
    notice(book.override(key, request));
    if (request.refresh) book.refreshDue.add(key);
    changed();
  }, {
    description:
      'Run a failed or completed phase again: {"phase": <id>, "downstream": true|false, "refresh": true|false}, optionally with overrides for it: "resource_class", "timeout_s", "retries", "config".',
  });
  setHandler(skipPhaseSignal, (request) => {
    const key = requestedPhase(request, 'skipPhase');
    if (typeof key !== 'string') return notice(key.error);
    notice(book.skip(key));
    changed();
  }, { description: 'Mark a pending or failed phase skipped so its dependants can run: {"phase": <id>}.' });
  setHandler(agentProgressSignal, (report) => {
    const key = requestedPhase(report, 'agentProgress');
    if (typeof key !== 'string') return notice(key.error);
    notice(book.progress(key, String(report.message ?? ''), typeof report.percent === 'number' ? report.percent : undefined, new Date()));
    changed();
  }, { description: 'An agent reports progress on a phase it runs: {"phase": <id>, "message": "...", "percent": 40}.' });

  setHandler(
    completePhaseUpdate,
    async (result) => {
      const key = phaseKey(result.phase);
      try {
        await orchestratorActivities.verifyAgentResult(result, {
          workdir,
          base_dir: baseDir,
          accept_unsigned: config.accept_unsigned_results,
          output_schema: book.phasesByKey.get(key)?.output_schema ?? null,
        });
      } catch (err) {
        throw failure('ResultRefused', failureMessage(err));
      }
      // The phase may have moved while the result was checked (another agent, a timeout).
      const problem = agentResultProblem(book, result);
      if (problem) throw failure('ResultRefused', problem);
      completeFromAgent(book, key, result);
      changed();
      return { accepted: true as const, phase: book.phaseStatus(key) };
    },
    {
      description: "An external agent's result for a phase awaiting one (what `baton execute-phase` and `baton submit` send).",
      validator: (raw: AgentResult) => {
        const parsed = AgentResultSchema.safeParse(raw);
        if (!parsed.success) {
          throw failure('ResultRefused', `the result is not valid: ${zodProblems(parsed.error).join('; ')}`);
        }
        const problem = agentResultProblem(book, parsed.data);
        if (problem) throw failure('ResultRefused', problem);
      },
    },
  );

  setHandler(
    executePhaseUpdate,
    async (request) => {
      const key = phaseKey(request.phase);
      book.request(key, request.use_separate_agent);
      changed();
      const rec = book.record(key);
      requestsWaiting += 1;
      try {
        await condition(() => ['completed', 'failed', 'skipped'].includes(rec.state) || (rec.separate_agent && rec.state === 'awaiting_agent'));
      } finally {
        requestsWaiting -= 1;
      }
      return book.phaseStatus(key);
    },
    {
      description: 'Request one phase, as the guide\'s execute_phase: {"phase": <id>, "use_separate_agent": true|false}. Returns when it has run, or when its package is ready for an agent.',
      validator: (request) => {
        const key = requestedPhase(request, 'executePhase');
        const problem = typeof key === 'string' ? book.requestProblem(key) : key.error;
        if (problem) throw failure('InvalidRequest', problem);
      },
    },
  );

  // Exports run one after another, each with the status as it is when it runs, so a slow write
  // can never overwrite a newer one; requests made while one is queued share it, so a large
  // fan-out writes the file a few times, not once per phase.
  let exportChain: Promise<void> = Promise.resolve();
  let exportQueued = false;
  const exportContext = (final?: RunStatus): Promise<void> => {
    if (exportQueued && !final) return exportChain;
    exportQueued = true;
    exportChain = exportChain
      .then(() => {
        exportQueued = false;
        if (largePlans && !final) {
          // While phases run, a regular activity that asks the run for its status: a local activity
          // holds the workflow task open while it writes, and phases finishing meanwhile pile up as
          // buffered events until the server force-closes the task.
          return orchestratorActivities.exportExecutionContext.executeWithOptions(
            // Short: writing a file takes well under a second, and an export lost with a killed
            // orchestrator worker must not hold up the ones after it (the final one included).
            { startToCloseTimeout: '15 seconds', retry: { maximumAttempts: 3 }, summary: 'Write execution_context.json' },
            [book.executionId, workdir, baseDir],
          );
        }
        // A local activity: the status (large for big plans) goes to the worker, never into history.
        // Safe for the final export: nothing is in flight any more.
        return orchestratorLocalActivities.writeExecutionContext(final ?? book.status(null), workdir, baseDir);
      })
      // The export is a convenience copy of the status query; failing to write it must not stop the run.
      .catch((err: unknown) => notice(`could not write execution_context.json: ${failureMessage(err)}`));
    return exportChain;
  };

  // Exports on a cadence (new runs): the status of a large plan is big, and a local activity holds
  // its workflow task open, so exporting after every phase would slow every phase down.
  let exportDue = false;
  const exportOnCadence = async (): Promise<void> => {
    try {
      for (;;) {
        await condition(() => exportDue);
        exportDue = false;
        await exportContext();
        // Then a pause: a timer, never a reading of the clock, decides when the next export may
        // run. Workflow time can differ between a task's first execution and its replay (a task
        // retried after its worker died), and a branch on it chose a timer one time and an
        // activity the other: a nondeterminism error, found by the chaos test.
        await sleep(EXPORT_INTERVAL_MS);
      }
    } catch (err) {
      if (!isCancellation(err)) throw err;
    }
  };

  const searchAttributes = new SearchAttributeSync(await orchestratorActivities.registeredSearchAttributes());
  const publish = (): void => {
    const overview = book.overview();
    setCurrentDetails(renderDetails(overview, book));
    searchAttributes.sync(overview);
  };
  /** The final status, shown and exported, and kept in the memo so it outlives the run whatever its end. */
  const close = async (): Promise<RunStatus> => {
    const final = book.status(new Date());
    publish();
    upsertMemo({ status: memoStatus(final) });
    await exportContext(final);
    return final;
  };

  const driver = { book, changed, notice };
  void watchQueues(book, changed, largePlans);
  if (largePlans) void exportOnCadence();
  const inFlight = new Map<string, Promise<void>>();
  /** Rollbacks: they do not hold a phase slot, but the run waits for them before it ends. */
  const rollbacks = new Set<Promise<void>>();
  const compensate = (key: string): void => {
    const promise = runCompensation(driver, key).finally(() => {
      rollbacks.delete(promise);
      changed();
    });
    rollbacks.add(promise);
  };
  if (input.resume && !continued) book.reuse(input.resume);

  const track = (key: string, work: Promise<void>): void => {
    const settled = (): void => {
      inFlight.delete(key);
      exportDue = true;
      changed(); // the loop may be waiting for in-flight work to drain
    };
    if (largePlans) {
      // One promise per phase rather than three (see runPhase on why that matters).
      const promise = work.then(settled, (err: unknown) => {
        if (isCancellation(err)) book.abandon(key, new Date());
        settled();
        if (!isCancellation(err)) throw err;
      });
      inFlight.set(key, promise);
      return;
    }
    const promise = work
      .catch((err: unknown) => {
        // Aborted: the main loop winds the run down. Anything else is a bug, and failing the
        // workflow task (to retry after a fix) is the right thing: rethrow.
        if (!isCancellation(err)) throw err;
        book.abandon(key, new Date());
      })
      .finally(settled);
    inFlight.set(key, promise);
  };
  // A run that continued as new takes over the waits for agents its predecessor had started.
  for (const key of book.keysIn('awaiting_agent')) track(key, awaitAgent(driver, key));

  /**
   * Continue as new when Temporal suggests it (history near its limits), or after the configured
   * number of phases: how a plan of 10,000 phases completes as one run.
   */
  const continueDue = (): boolean =>
    largePlans &&
    requestsWaiting === 0 &&
    (workflowInfo().continueAsNewSuggested ||
      (config.continue_as_new_after_phases !== undefined && book.finishedThisSegment >= config.continue_as_new_after_phases));
  /** Only waits for agents are left in flight: those carry over to the next run. */
  const drained = (): boolean => rollbacks.size === 0 && [...inFlight.keys()].every((k) => book.record(k).state === 'awaiting_agent');

  let seen = -1;
  let continuing = false;
  try {
    for (;;) {
      while (!book.allDone() || book.compensationsDue.length > 0 || rollbacks.size > 0) {
        for (const key of book.compensationsDue.splice(0)) compensate(key);
        if (book.allDone()) {
          // Only rollbacks left to finish.
        } else if (config.failed_phase_policy === 'fail' && book.count('failed') > 0) {
          if (inFlight.size === 0 && rollbacks.size === 0) break;
        } else if (continueDue()) {
          // Start nothing new; continue once the phases in flight have finished.
          if (drained()) {
            continuing = true;
            break;
          }
        } else if (!book.paused) {
          for (const key of book.readyPhases()) {
            if (book.running() >= config.max_parallel_phases) break;
            track(key, largePlans ? runPhase(driver, key) : runPhase(driver, key).then(() => exportContext()));
          }
        }
        publish();
        seen = changes;
        await condition(() => changes !== seen);
      }
      if (!continuing) break;
      // Continue as new once no handler is busy; an executePhase call arriving meanwhile waits for a
      // phase, so the run goes back to running phases instead.
      await condition(() => allHandlersFinished() || requestsWaiting > 0);
      if (requestsWaiting === 0) {
        const before = changes;
        const { continued: next, archive } = book.carry();
        const archives = Object.keys(archive).length === 0
          ? next.archives
          : [...next.archives, await orchestratorLocalActivities.archivePhases(book.executionId, next.segment, archive, workdir, baseDir)];
        await exportChain;
        if (changes === before) {
          log.info(`continuing as new (segment ${next.segment}): ${book.count('completed')} of ${book.keys().length} phases completed`);
          return await continueAsNew<typeof phasedRun>({ plan: compactPlan(plan), config, continued: { ...next, archives } });
        }
      }
      // A signal or update changed the run meanwhile: look again, and carry what is current.
      continuing = false;
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Aborted (the UI's Request Cancellation, `temporal workflow cancel`, `baton abort`): phases in
    // flight are cancelled; what is left to do must not be cancelled in turn.
    book.cancelled = true;
    await CancellationScope.nonCancellable(async () => {
      await Promise.allSettled(inFlight.values());
      // Roll back what the abort abandoned: phases that were in flight, or had failed.
      for (const key of [...book.compensationsDue.splice(0), ...book.dueOnAbort()]) compensate(key);
      await Promise.allSettled(rollbacks);
      await close();
    });
    throw err;
  }

  // Let every phase's bookkeeping (its execution_context.json export) finish before the run closes.
  await Promise.all(inFlight.values());
  const final = await close();
  await condition(allHandlersFinished);
  if (final.state === 'failed') {
    throw failure('PhaseFailed', final.held_reason ?? 'a phase failed', boundedStatus(final));
  }
  return boundedStatus(final);
}

function parseContinued(input: RunInput): Continued | undefined {
  if (input.continued === undefined) return undefined;
  const parsed = ContinuedSchema.safeParse(input.continued);
  if (!parsed.success) {
    throw failure('InvalidPlan', `the input's "continued" is not valid (${zodProblems(parsed.error).join('; ')}); it is written by a run that continues as new: start runs without it`);
  }
  return parsed.data;
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
      throw failure('InvalidPlan', err.message, err.problems);
    }
    throw err;
  }
}

/** Signal and update input comes from the UI's JSON dialog too, so it is checked rather than trusted. */
function requestedPhase(request: unknown, name: string): string | { error: string } {
  const phase = request && typeof request === 'object' ? (request as { phase?: unknown }).phase : undefined;
  if (typeof phase === 'number' || (typeof phase === 'string' && phase.length > 0)) return phaseKey(phase);
  return { error: `${name}: expected {"phase": <id>}, got ${JSON.stringify(request) ?? 'nothing'}` };
}

/**
 * No silent waiting: while phases run on worker queues, look now and then (5 s, then less and
 * less often, up to every 5 minutes) whether each has been picked up, and say when one waits for
 * workers that are not there. Local activities and timers keep its cost in history small.
 */
async function watchQueues(book: RunBook, changed: () => void, asActivity: boolean): Promise<void> {
  const inlineRunning = (): string[] => book.keysIn('running').filter((k) => !book.record(k).separate_agent);
  let delayMs = 5_000;
  let watched = '';
  try {
    for (;;) {
      await condition(() => inlineRunning().length > 0);
      await sleep(delayMs);
      const running = inlineRunning();
      if (running.length === 0) continue;
      const ids = running.map((k) => book.activityId(k)).join(',');
      delayMs = ids === watched ? Math.min(delayMs * 2, 300_000) : 5_000;
      watched = ids;
      const queues = [...new Set(running.map((k) => book.record(k).task_queue))];
      // New runs use a regular activity: a local one holds the workflow task open (see exportContext).
      const watch = asActivity
        ? await orchestratorActivities.watchQueues.executeWithOptions(
            { startToCloseTimeout: '15 seconds', retry: { maximumAttempts: 3 }, summary: 'Look whether running phases have workers' },
            [book.executionId, queues],
          )
        : await orchestratorLocalActivities.watchQueues(book.executionId, queues);
      book.noteQueues(watch);
      changed();
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
  }
}
