/**
 * No silent waiting: while phases run on worker queues, look now and then (5 s, then less and
 * less often, up to every 5 minutes) whether each has been picked up, and say when one waits for
 * workers that are not there.
 */
import { condition, isCancellation, sleep } from '@temporalio/workflow';
import { cancellation, orchestratorActivities, orchestratorLocalActivities } from './activities.js';
import type { RunBehaviour } from './behaviour.js';
import type { RunBook } from './run-book.js';

/** Ends once the run is cancelled and the watch in flight, if any, has ended. */
export async function watchQueues(book: RunBook, changed: () => void, behaviour: RunBehaviour): Promise<void> {
  const byActivity = behaviour.watchesByActivity;
  const inlineRunning = (): string[] => book.keysIn('running').filter((k) => !book.record(k).separate_agent);
  let delayMs = 5_000;
  let watched = '';
  try {
    for (;;) {
      await condition(() => inlineRunning().length > 0);
      await sleep(delayMs);
      const running = inlineRunning();
      if (running.length === 0) continue;
      const ids = running.map((k) => book.phase(k).activityId()).join(',');
      delayMs = ids === watched ? Math.min(delayMs * 2, 300_000) : 5_000;
      watched = ids;
      const queues = [...new Set(running.map((k) => book.record(k).task_queue))];
      // New runs use a regular activity: a local one holds the workflow task open (see ExecutionContextExport).
      const watch = byActivity
        ? await orchestratorActivities.watchQueues.executeWithOptions(
            { startToCloseTimeout: '15 seconds', retry: { maximumAttempts: 3 }, summary: 'Look whether running phases have workers', ...cancellation(behaviour) },
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
