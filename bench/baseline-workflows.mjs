// The baseline: the same no-op work as Baton's benchmark plans, as plain activities called
// with proxyActivities from a workflow that does nothing else. Its activity queue is not the
// workflow's own queue, exactly as Baton's phase queues are not `baton`, so neither side gets
// eager activity dispatch.
import { proxyActivities } from '@temporalio/workflow';

export const RAW_ACTIVITY_QUEUE = 'bench-raw';

const { noop } = proxyActivities({ taskQueue: RAW_ACTIVITY_QUEUE, startToCloseTimeout: '1 hour' });

/** n activities one after another, each started when the previous one has completed. */
export async function rawChain(n) {
  for (let i = 0; i < n; i++) await noop(i);
  return n;
}

/** n independent activities, at most `parallelism` in flight (Baton's max_parallel_phases). */
export async function rawFanOut(n, parallelism) {
  let next = 0;
  const lane = async () => {
    while (next < n) await noop(next++);
  };
  await Promise.all(Array.from({ length: Math.min(parallelism, n) }, lane));
  return n;
}
