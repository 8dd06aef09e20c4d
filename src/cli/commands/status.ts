/**
 * `baton status <run-id>` and `baton watch <run-id>`.
 */
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { Orchestrator } from '../../client/orchestrator.js';
import { action } from '../errors.js';
import { renderStatusTable } from '../format.js';
import { followRun } from '../progress.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("show a run's state and every phase's")
    .argument('<run-id>')
    .option('--json', 'print the status as JSON (the `status` query)')
    .action(
      action(async (runId: string, opts: { json?: boolean }) => {
        const status = await new Orchestrator(await connectClient()).run(runId).status();
        console.log(opts.json ? JSON.stringify(status, null, 2) : renderStatusTable(status));
      }),
    );

  program
    .command('watch')
    .description('follow a run live until it ends or holds')
    .argument('<run-id>')
    .action(
      action(async (runId: string) => {
        const status = await followRun(new Orchestrator(await connectClient()).run(runId));
        if (!process.stdout.isTTY) console.log(renderStatusTable(status));
      }),
    );
}
