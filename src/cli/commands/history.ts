/**
 * `baton history <run>`: the run's audit trail, rendered from Temporal history.
 */
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { readHistory, renderHistory } from '../../client/history.js';
import { action } from '../errors.js';

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description("a run's timeline from Temporal history: every phase attempt (where, by whom, how long, which package), signal and agent result")
    .argument('<run-id>')
    .option('--json', 'print the timeline and attempts as JSON')
    .action(
      action(async (runId: string, opts: { json?: boolean }) => {
        const history = await readHistory(await connectClient(), runId);
        console.log(opts.json ? JSON.stringify(history, null, 2) : renderHistory(history));
      }),
    );
}
