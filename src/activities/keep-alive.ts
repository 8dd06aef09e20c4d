/**
 * Heartbeats while a phase runs, so a worker that dies is noticed within the heartbeat timeout
 * (seconds) rather than the phase's timeout (hours), and its phase moves to another worker.
 */
import { Context } from '@temporalio/activity';

export async function whileHeartbeating<T>(work: () => Promise<T>, details?: unknown): Promise<T> {
  const ctx = Context.current();
  // A third of the timeout leaves room for two missed beats; the SDK throttles beats anyway.
  const everyMs = Math.min(10_000, Math.max(500, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
  ctx.heartbeat(details);
  const beat = setInterval(() => ctx.heartbeat(details), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}
