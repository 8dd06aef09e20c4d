/**
 * `baton gc`: removes from the store (BATON_STORE) the files of runs past a retention period, keeping
 * live runs and what kept runs reuse (see client/gc.ts).
 */
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { collectGarbage, parseRetention } from '../../client/gc.js';
import { configuredStore } from '../../runner/store/sync.js';
import { action, UsageError } from '../errors.js';

export function registerGc(program: Command): void {
  program
    .command('gc')
    .description("remove from the store the files of runs older than --older-than, keeping live runs and the runs they reuse")
    .option('--older-than <duration>', 'retention: 30d, 12h, 90m, 45s', '30d')
    .option('--dry-run', 'say what would be removed, and remove nothing')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (opts: { olderThan: string; dryRun?: boolean; json?: boolean }) => {
        let olderThanMs: number;
        try {
          olderThanMs = parseRetention(opts.olderThan);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const store = configuredStore();
        if (!store) throw new UsageError('BATON_STORE is not set: without a store, runs keep their files in their workdir; remove old runs/<run>/ folders there');
        const report = await collectGarbage(store, await connectClient(), { olderThanMs, dryRun: opts.dryRun === true });
        if (opts.json) return console.log(JSON.stringify(report, null, 2));
        const verb = opts.dryRun ? 'would remove' : 'removed';
        console.log(`${store.description}: ${verb} ${report.removedRuns.length} run(s) and ${report.removedContent} content object(s) (${report.removedContentBytes} bytes), ${report.removedObjects} object(s) in all`);
        for (const run of report.removedRuns) console.log(`  ${verb} run ${run}`);
        for (const { run, why } of report.keptRuns) console.log(`  kept run ${run}: ${why}`);
      }),
    );
}
