/**
 * `baton queues`: per resource class, the workers polling, the backlog and its age, the rates,
 * and what to do about it.
 */
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { loadConfig } from '../../client/load-plan.js';
import { describeQueue } from '../../client/queues.js';
import { ORCHESTRATOR_TASK_QUEUE, taskQueueFor } from '../../core/plan/schema.js';
import { defaultClasses } from '../../workers/run-workers.js';
import { action } from '../errors.js';

export function registerQueues(program: Command): void {
  program
    .command('queues')
    .description('per resource class: workers polling, backlog count and age, add and dispatch rates, and a recommendation')
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
        }
      }),
    );
}
