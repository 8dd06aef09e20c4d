/**
 * Temporal's Reset makes a new run of the workflow from an event of an old one: it copies the old
 * run's history up to that event, ends the old run, and goes on live from there. The run must then
 * say so (status, details, history) and must not reuse, for the phases it runs again, the
 * generations the old run went on to hand out after that point: their packages, logs and
 * idempotency keys belong to work that may have happened.
 *
 * It learns this deterministically: at each turn, a reset run asks `patched(resetPatch(n))`, which
 * is false while the copied events replay and true at its first live workflow task; then an
 * activity reads the reset from history (which run, which event, why) and the generations the
 * replaced runs used, and the run starts no phase until it knows them.
 */
import { log, patched, workflowInfo } from '@temporalio/workflow';
import type { ResetOrigin } from '../../activities/types.js';
import { cancellation, orchestratorActivities } from './activities.js';
import { isResetRun, resetPatch, type RunBehaviour } from './behaviour.js';
import { failureMessage } from './phase-lifecycle.js';
import type { RunBook } from './run-book.js';

export class ResetWatch {
  /** Resets learnt from this Temporal run's own history (a run reset twice has learnt one in its copied events). */
  private learnt = 0;
  /** The Temporal run the last reset learnt made; once it is this run, there is nothing more to learn. */
  private lastRun: string | undefined;
  /** While the reset is being read: no phase starts until it is known. */
  pending: Promise<void> | undefined;

  constructor(
    private readonly book: RunBook,
    private readonly behaviour: RunBehaviour,
    private readonly notice: (message: string) => void,
    private readonly changed: () => void,
  ) {}

  /** Called at each turn of the run's loop; free in a run that no Reset made. */
  check(): void {
    if (this.pending) return;
    const info = workflowInfo();
    if (!isResetRun(info) || this.lastRun === info.runId) return;
    if (!patched(resetPatch(this.learnt + 1))) return;
    this.pending = this.learn(info.runId).finally(() => {
      this.pending = undefined;
      this.changed();
    });
  }

  private async learn(runId: string): Promise<void> {
    let origin: ResetOrigin;
    try {
      origin = await orchestratorActivities.resetOrigin.executeWithOptions(
        { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5, initialInterval: '1 second' }, summary: 'Read where this reset run came from', ...cancellation(this.behaviour) },
        [],
      );
    } catch (err) {
      // Without it the run still runs; a phase it runs again may then take a generation number
      // the replaced run used (the worker still gives its files names of their own).
      this.learnt += 1;
      this.lastRun = runId;
      this.notice(`this run was made by a reset, but where from could not be read: ${failureMessage(err)}`);
      return;
    }
    this.learnt += 1;
    this.lastRun = origin.reset?.run_id ?? runId;
    const message = this.book.noteReset(origin.reset, origin.generations);
    log.info(message);
    this.notice(message);
  }
}
