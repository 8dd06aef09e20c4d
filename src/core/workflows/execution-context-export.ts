/**
 * Keeping `<workdir>/execution_context.json` (the guide's ContextManager file) current: a copy of
 * the status query, written by an activity on the orchestrator worker. Exports run one after
 * another, each with the status as it is when it runs, so a slow write never overwrites a newer
 * one; requests made while one is queued share it, so a large fan-out writes the file a few
 * times, not once per phase.
 */
import { storeArg, type RunWhere } from './run-where.js';
import { condition, isCancellation, sleep } from '@temporalio/workflow';
import type { RunStatus } from '../api/status.js';
import { cancellation, orchestratorActivities, orchestratorLocalActivities } from './activities.js';
import type { RunBehaviour } from './behaviour.js';
import { failureMessage } from './phase-lifecycle.js';
import { runStatus } from './projections.js';
import type { RunBook } from './run-book.js';

/** How often, at most, a run rewrites execution_context.json while it is busy. */
const EXPORT_INTERVAL_MS = 2_000;

export class ExecutionContextExport {
  private chain: Promise<void> = Promise.resolve();
  private queued = false;
  private due = false;

  constructor(
    private readonly book: RunBook,
    private readonly where: RunWhere,
    private readonly notice: (message: string) => void,
    private readonly behaviour: Pick<RunBehaviour, 'exportsOnCadence' | 'waitsForCancellation'>,
  ) {}

  /**
   * New runs: mid-run exports by a regular activity that asks the run for its status. A local
   * activity holds the workflow task open while it writes, and phases finishing meanwhile pile
   * up as buffered events until the server force-closes the task.
   */
  private get byActivity(): boolean {
    return this.behaviour.exportsOnCadence;
  }

  /** Something worth exporting changed: the cadence picks it up. */
  markDue(): void {
    this.due = true;
  }

  /** Exports now (or joins the export already queued); `final` writes the given final status. */
  now(final?: RunStatus): Promise<void> {
    if (this.queued && !final) return this.chain;
    this.queued = true;
    this.chain = this.chain
      .then(() => {
        this.queued = false;
        const { workdir, baseDir } = this.where;
        if (this.byActivity && !final) {
          return orchestratorActivities.exportExecutionContext.executeWithOptions(
            // Short: writing a file takes well under a second, and an export lost with a killed
            // orchestrator worker must not hold up the ones after it (the final one included).
            { startToCloseTimeout: '15 seconds', retry: { maximumAttempts: 3 }, summary: 'Write execution_context.json', ...cancellation(this.behaviour) },
            [this.book.executionId, workdir, baseDir, ...storeArg(this.where)],
          );
        }
        // A local activity: the status (large for big plans) goes to the worker, never into history.
        // Safe for the final export: nothing is in flight any more.
        return orchestratorLocalActivities.writeExecutionContext(final ?? runStatus(this.book, null), workdir, baseDir, ...storeArg(this.where));
      })
      // The export is a convenience copy of the status query; failing to write it must not stop the run.
      .catch((err: unknown) => this.notice(`could not write execution_context.json: ${failureMessage(err)}`));
    return this.chain;
  }

  /** Resolves once every export asked for so far has run. */
  settled(): Promise<void> {
    return this.chain;
  }

  /**
   * New runs export on a cadence: the status of a large plan is big, so exporting after every
   * phase would slow every phase down.
   */
  async onCadence(): Promise<void> {
    try {
      for (;;) {
        await condition(() => this.due);
        this.due = false;
        await this.now();
        // Then a pause: a timer, never a reading of the clock, decides when the next export may
        // run. Workflow time can differ between a task's first execution and its replay (a task
        // retried after its worker died), and a branch on it chose a timer one time and an
        // activity the other: a nondeterminism error, found by the chaos test.
        await sleep(EXPORT_INTERVAL_MS);
      }
    } catch (err) {
      if (!isCancellation(err)) throw err;
    }
  }
}
