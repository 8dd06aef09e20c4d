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
  workflowInfo,
} from '@temporalio/workflow';
import { failure } from '../api/failures.js';
import type { RunInput } from '../api/run-input.js';
import type { RunStatus } from '../api/status.js';
import { planWorkdir } from '../handoff/build.js';
import { compactPlan } from '../plan/compact.js';
import { cancellation, orchestratorActivities, orchestratorLocalActivities } from './activities.js';
import { runBehaviour } from './behaviour.js';
import { carry, restore } from './carry.js';
import { registerClaimHandlers } from './claims.js';
import { registerHandlers } from './handlers.js';
import { checkOutputSchemas } from './output-schemas.js';
import { watchPhases } from './phase-watch.js';
import { watchQueues } from './queue-watch.js';
import { RunBook } from './run-book.js';
import { parseContinued, parseRunInput, verifiedResume } from './run-input.js';
import { Run } from './run.js';
import { storeArg } from './run-where.js';
import { SearchAttributeSync } from './search-attribute-sync.js';
import { boundedStatus } from './status-size.js';

export async function phasedRun(input: RunInput): Promise<RunStatus> {
  const checked = parseRunInput(input);
  const { plan, config } = checked;
  const continued = parseContinued(input);
  const behaviour = runBehaviour();
  const book = new RunBook(workflowInfo().workflowId, plan, config, continued ? new Date(continued.started_at) : new Date());
  book.temporalRunId = workflowInfo().runId;
  if (continued) restore(book, continued);
  const run = new Run(book, behaviour, { workdir: planWorkdir(plan), baseDir: plan.base_dir ?? null, ...(config.store ? { store: config.store } : {}) });
  registerHandlers(run);
  const claims = registerClaimHandlers(run);
  // A run that continues as new checked its plan when it began.
  if (behaviour.checksOutputSchemas && !continued) await checkOutputSchemas(plan, behaviour);
  // Checked before anything else runs: a resume block that is not what its run recorded fails the run here.
  const resume = continued ? undefined : await verifiedResume(input, checked, run.where);

  run.searchAttributes = new SearchAttributeSync(await orchestratorActivities.registeredSearchAttributes.executeWithOptions(cancellation(behaviour), []));
  if (behaviour.opensWorkdir) {
    await orchestratorActivities.openWorkdir.executeWithOptions(
      { ...cancellation(behaviour), startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3 }, summary: "Make and mark the run's workdir" },
      [run.where.workdir, run.where.baseDir, book.executionId],
    );
    book.workdirMarked = true;
  }
  // Both end once the run is cancelled and their activity in flight has ended: an orderly abort waits for them.
  const background = [
    behaviour.watchesPhases ? watchPhases(book, run.changed, behaviour) : watchQueues(book, run.changed, behaviour),
    ...(behaviour.exportsOnCadence ? [run.exports.onCadence()] : []),
  ];
  if (resume) book.reuse(resume);
  run.resumeAgentWaits();
  claims.resume();

  /**
   * Continue as new when Temporal suggests it (history near its limits), or after the configured
   * number of phases: how a plan of 10,000 phases completes as one run.
   */
  const continueDue = (): boolean =>
    behaviour.continuesAsNew &&
    run.requestsWaiting === 0 &&
    (workflowInfo().continueAsNewSuggested ||
      (config.continue_as_new_after_phases !== undefined && book.finishedThisSegment >= config.continue_as_new_after_phases));

  // The loop, the close and the continue-as-new stay in this one function: each await between
  // them would shift when their commands are made, and recorded runs must replay command for command.
  let seen = -1;
  let continuing = false;
  try {
    for (;;) {
      while (!book.allDone() || book.compensationsDue.length > 0 || run.rollbacks.size > 0) {
        run.resets.check();
        for (const key of book.compensationsDue.splice(0)) run.compensate(key);
        if (book.allDone()) {
          // Only rollbacks left to finish.
        } else if (config.failed_phase_policy === 'fail' && book.count('failed') > 0) {
          if (run.inFlight.size === 0 && run.rollbacks.size === 0) break;
        } else if (continueDue()) {
          // Start nothing new; continue once the phases in flight have finished.
          if (run.drained()) {
            continuing = true;
            break;
          }
        } else if (!book.paused && !run.resets.pending) {
          // A reset run starts nothing until it knows the generations the runs it replaced used.
          run.startReady();
        }
        run.publish();
        seen = run.changes;
        await condition(() => run.changes !== seen);
      }
      if (!continuing) break;
      // Continue as new once no handler is busy; an executePhase call arriving meanwhile waits for a
      // phase, so the run goes back to running phases instead.
      await condition(() => allHandlersFinished() || run.requestsWaiting > 0);
      if (run.requestsWaiting === 0) {
        run.resets.check();
        if (run.resets.pending) await run.resets.pending;
        const before = run.changes;
        const { continued: next, archive } = carry(book);
        const { workdir, baseDir } = run.where;
        const archives = Object.keys(archive).length === 0
          ? next.archives
          : [...next.archives, await orchestratorLocalActivities.archivePhases(book.executionId, next.segment, archive, workdir, baseDir, ...storeArg(run.where))];
        await run.exports.settled();
        if (run.changes === before) {
          log.info(`continuing as new (segment ${next.segment}): ${book.count('completed')} of ${book.size} phases completed`);
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
      // Under an orderly abort, a phase in flight settles once its worker has stopped it.
      await Promise.allSettled(run.inFlight.values());
      // Roll back what the abort abandoned: phases that were in flight, or had failed.
      for (const key of [...book.compensationsDue.splice(0), ...book.dueOnAbort()]) run.compensate(key);
      await Promise.allSettled(run.rollbacks);
      if (behaviour.waitsForCancellation) {
        // Leave no activity pending on the closed run: the queue watch and the export in flight end
        // first, and so do handlers (an agent's result being checked).
        await Promise.allSettled([...background, ...(run.resets.pending ? [run.resets.pending] : [])]);
        await condition(allHandlersFinished);
      }
      await run.close();
    });
    throw err;
  }

  // A run reset near its end learns so before it closes, so that its final status says it.
  run.resets.check();
  if (run.resets.pending) await run.resets.pending;
  // Let every phase's bookkeeping (its execution_context.json export) finish before the run closes.
  await Promise.all(run.inFlight.values());
  const final = await run.close();
  await condition(allHandlersFinished);
  if (final.state === 'failed') throw failure('PhaseFailed', final.held_reason ?? 'a phase failed', boundedStatus(final));
  return boundedStatus(final);
}
