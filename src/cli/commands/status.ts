/**
 * `baton status <run-id>` and `baton watch <run-id>`.
 */
import type { Command } from 'commander';
import { connectClient, connectSettings } from '../../client/connection.js';
import { Orchestrator } from '../../client/orchestrator.js';
import { runLinkLines } from '../../client/ui-links.js';
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
        const settings = connectSettings();
        const status = await new Orchestrator(await connectClient(settings)).run(runId).status();
        console.log(opts.json ? JSON.stringify(status, null, 2) : [renderStatusTable(status), ...runLinkLines(settings, runId)].join('\n'));
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
