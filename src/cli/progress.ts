/**
 * Follows a run until it ends or holds: a table redrawn in place on a terminal
 * (log-update), plain lines for each change otherwise, so logs stay readable.
 */
import logUpdate from 'log-update';
import type { RunHandle } from '../client/orchestrator.js';
import type { RunStatus } from '../core/api/status.js';
import { renderStatusTable, stateChanges } from './format.js';

export interface FollowOptions {
  intervalMs?: number;
  quiet?: boolean;
  /** Stop following when the run holds on a failed phase (it stays open for an operator). */
  stopWhenHeld?: boolean;
}

export async function followRun(run: RunHandle, opts: FollowOptions = {}): Promise<RunStatus> {
  const tty = process.stdout.isTTY && !opts.quiet;
  let previous: RunStatus | undefined;
  for (;;) {
    const status = await run.status();
    if (!opts.quiet) {
      if (tty) logUpdate(renderStatusTable(status));
      else for (const line of stateChanges(previous, status)) console.log(line);
    }
    previous = status;
    const ended = status.state === 'completed' || status.state === 'failed' || status.state === 'cancelled';
    if (ended || (opts.stopWhenHeld !== false && status.state === 'held')) {
      if (tty) logUpdate.done();
      return status;
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 500));
  }
}
