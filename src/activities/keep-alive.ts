/**
 * Heartbeats while a phase runs, so a worker that dies is noticed within the heartbeat timeout
 * (seconds) rather than the phase's timeout (hours), and its phase moves to another worker. The
 * answer to a heartbeat is also how a running phase hears that it was cancelled (an abort) or that
 * its run is gone (a Reset, a Terminate): the worker sends one every HEARTBEAT_THROTTLE at most
 * (phase-worker.ts), so a phase stops within about that.
 */
import { Context } from '@temporalio/activity';

/** The longest the worker holds a heartbeat back (WorkerOptions.maxHeartbeatThrottleInterval). */
export const HEARTBEAT_THROTTLE = '2 seconds';

export async function whileHeartbeating<T>(work: () => Promise<T>, details?: unknown): Promise<T> {
  const ctx = Context.current();
  // Often, so that the throttled beats go out as often as the worker allows; a third of the timeout
  // at most, which leaves room for two missed beats.
  const everyMs = Math.min(1_000, Math.max(200, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
  ctx.heartbeat(details);
  const beat = setInterval(() => ctx.heartbeat(details), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}
