/**
 * `baton queues`: per resource class, its workers (from Temporal's worker records), the backlog
 * and its age, the rates, and what to do about it.
 */
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { loadConfig } from '../../client/load-plan.js';
import { describeQueue, type QueueReport } from '../../client/queues.js';
import { ORCHESTRATOR_TASK_QUEUE, taskQueueFor } from '../../core/plan/schema.js';
import { defaultClasses } from '../../workers/run-workers.js';
import { action } from '../errors.js';

export function registerQueues(program: Command): void {
  program
    .command('queues')
    .description('per resource class: live workers (from their heartbeats: busy ones count, dead ones do not), backlog count and age, add and dispatch rates, and a recommendation')
    .option('-c, --config <file>', 'orchestrator_config.json (the classes to show; default: default and gpu)')
    .option('--class <name>', 'only this class; repeat for more', (v: string, acc: string[]) => [...acc, v], [])
    .option('--json', 'machine-readable, for autoscalers')
    .action(
      action(async (opts: { config?: string; class: string[]; json?: boolean }) => {
        const classes = opts.class.length > 0 ? opts.class : defaultClasses(await loadConfig(opts.config));
        const client = await connectClient();
        const reports = await Promise.all([
          describeQueue(client.connection, client.options.namespace, ORCHESTRATOR_TASK_QUEUE, 'workflow'),
          ...classes.map((c) => describeQueue(client.connection, client.options.namespace, taskQueueFor(c))),
        ]);
        if (opts.json) return console.log(JSON.stringify(reports, null, 2));
        for (const r of reports) {
          console.log(`${r.task_queue.padEnd(16)} workers ${String(r.workers.length).padStart(2)}  backlog ${String(r.backlog_count).padStart(4)} (oldest ${r.backlog_age_s.toFixed(0)}s)  add ${r.tasks_add_rate.toFixed(2)}/s  dispatch ${r.tasks_dispatch_rate.toFixed(2)}/s`);
          console.log(`  ${r.recommendation}`);
          const shown = workerLine(r);
          if (shown) console.log(`  ${shown}`);
        }
      }),
    );
}

/** The workers worth a look: busy ones, and ones gone (in the last ten minutes) or leaving that the server still lists. */
export function workerLine(r: QueueReport): string {
  const parts: string[] = [];
  for (const w of r.worker_records) {
    if (w.live && w.slots_used !== null && w.slots_used > 0) parts.push(`${w.identity} busy (${w.slots_used}/${w.slots_used + (w.slots_free ?? 0)} slots)`);
    else if (w.status === 'gone' && (w.heartbeat_age_s ?? 0) < 600) parts.push(`${w.identity} gone (no heartbeat for ${Math.round(w.heartbeat_age_s ?? 0)}s)`);
    else if (w.status === 'shutting_down') parts.push(`${w.identity} shutting down`);
  }
  return parts.length > 0 ? `workers: ${parts.join(', ')}` : '';
}
