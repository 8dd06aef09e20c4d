/**
 * Operating a run: `pause`, `resume`, `retry`, `skip`, `mark-done`, `hand`, `abort`. Each is one
 * update (or a cancellation), exactly what the Temporal CLI and Web UI send: a request the run
 * cannot honour is refused at once with the reason (exit 1), and an accepted one prints what the
 * run did.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { Orchestrator, type RunHandle } from '../../client/orchestrator.js';
import type { PhaseId } from '../../core/plan/schema.js';
import { PhaseOutputFileSchema } from '../../core/handoff/schema.js';
import { checkAgainst } from '../../core/api/messages.js';
import { readStructuredFile } from '../../client/load-plan.js';
import { action, UsageError } from '../errors.js';

/** Phase ids on the command line are integers when they look like one, as in plans. */
export function parsePhaseId(text: string): PhaseId {
  return /^\d+$/.test(text) ? Number(text) : text;
}

async function withRun(runId: string, fn: (run: RunHandle) => Promise<void>): Promise<void> {
  await fn(new Orchestrator(await connectClient()).run(runId));
}

export function registerOperate(program: Command): void {
  program
    .command('pause')
    .description('start no new phase until resume; phases in flight finish')
    .argument('<run-id>')
    .action(action(async (runId: string) => withRun(runId, async (run) => {
      console.log(`${runId}: ${(await run.pause()).message}`);
    })));

  program
    .command('resume')
    .description('continue a paused run')
    .argument('<run-id>')
    .action(action(async (runId: string) => withRun(runId, async (run) => {
      console.log(`${runId}: ${(await run.resume()).message}`);
    })));

  program
    .command('retry')
    .description('run a failed or completed phase again')
    .argument('<run-id>')
    .argument('<phase>')
    .option('--downstream', 'also re-run every phase that depends on it')
    .action(action(async (runId: string, phase: string, opts: { downstream?: boolean }) => withRun(runId, async (run) => {
      console.log(`${runId}: ${(await run.retry(parsePhaseId(phase), opts.downstream === true)).message}`);
    })));

  program
    .command('skip')
    .description('mark a pending or failed phase skipped so its dependants can run')
    .argument('<run-id>')
    .argument('<phase>')
    .action(action(async (runId: string, phase: string) => withRun(runId, async (run) => {
      console.log(`${runId}: ${(await run.skip(parsePhaseId(phase))).message}`);
    })));

  program
    .command('mark-done')
    .description("complete a failed phase, or one awaiting an agent, with your output (checked against its output_schema); its dependants then run")
    .argument('<run-id>')
    .argument('<phase>')
    .requiredOption('--output <file>', 'the output, as a phase writes it to BATON_OUTPUT: {"context": {...}, "artifacts": {"name": "path relative to the workdir"}}')
    .option('--reason <text>', 'why, in a line (recorded in the phase\'s provenance)')
    .option('--by <name>', 'who marks it done (default: user@host)')
    .action(action(async (runId: string, phase: string, opts: { output: string; reason?: string; by?: string }) => {
      // The file first: a mistake in it is the user's, said before anything is sent.
      const output = await readOutput(opts.output);
      const by = opts.by ?? `${os.userInfo().username}@${os.hostname()}`;
      await withRun(runId, async (run) => {
        console.log(`${runId}: ${(await run.markDone(parsePhaseId(phase), output, { by, ...(opts.reason === undefined ? {} : { reason: opts.reason }) })).message}`);
      });
    }));

  program
    .command('hand')
    .description('hand a pending or failed phase to an external agent, or a pending, failed or agent-awaiting one back to a worker')
    .argument('<run-id>')
    .argument('<phase>')
    .requiredOption('--to <who>', '"agent" or "worker"')
    .action(action(async (runId: string, phase: string, opts: { to: string }) => {
      const to = opts.to;
      if (to !== 'agent' && to !== 'worker') throw new UsageError(`--to must be "agent" or "worker", got ${JSON.stringify(to)}`);
      await withRun(runId, async (run) => {
        console.log(`${runId}: ${(await run.hand(parsePhaseId(phase), to)).message}`);
      });
    }));

  program
    .command('abort')
    .description('cancel the run: phases in flight are cancelled and waited for, then rolled back, and the run ends cancelled')
    .argument('<run-id>')
    .action(action(async (runId: string) => withRun(runId, async (run) => {
      await run.abort();
      console.log(`requested cancellation of ${runId}: each phase in flight stops (its worker hears of it within seconds), then its rollback runs, then the run ends cancelled; baton status ${runId}`);
    })));
}

/** An output file for mark-done, as a phase writes BATON_OUTPUT; refused here with where it goes wrong. */
async function readOutput(file: string) {
  const output = checkAgainst(PhaseOutputFileSchema.strict(), await readStructuredFile(file, 'the output'));
  if (!output.ok) throw new UsageError(`${file}: ${output.error}; expected {"context": {...}, "artifacts": {"name": "relative/path"}}`);
  return output.value;
}
