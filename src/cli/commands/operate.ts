/**
 * Operating a run: `pause`, `resume`, `retry`, `skip`, `abort`. Each is one signal
 * (or a cancellation), exactly what the Temporal CLI and Web UI send.
 */
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { Orchestrator, type RunHandle } from '../../client/orchestrator.js';
import type { PhaseId } from '../../core/plan/schema.js';
import { action } from '../errors.js';

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
      await run.pause();
      console.log(`paused ${runId}`);
    })));

  program
    .command('resume')
    .description('continue a paused run')
    .argument('<run-id>')
    .action(action(async (runId: string) => withRun(runId, async (run) => {
      await run.resume();
      console.log(`resumed ${runId}`);
    })));

  program
    .command('retry')
    .description('run a failed or completed phase again')
    .argument('<run-id>')
    .argument('<phase>')
    .option('--downstream', 'also re-run every phase that depends on it')
    .action(action(async (runId: string, phase: string, opts: { downstream?: boolean }) => withRun(runId, async (run) => {
      await run.retry(parsePhaseId(phase), opts.downstream === true);
      console.log(`asked ${runId} to retry phase ${phase}${opts.downstream ? ' and its downstream phases' : ''}`);
    })));

  program
    .command('skip')
    .description('mark a pending or failed phase skipped so its dependants can run')
    .argument('<run-id>')
    .argument('<phase>')
    .action(action(async (runId: string, phase: string) => withRun(runId, async (run) => {
      await run.skip(parsePhaseId(phase));
      console.log(`asked ${runId} to skip phase ${phase}`);
    })));

  program
    .command('abort')
    .description('cancel the run: phases in flight are cancelled and waited for, then rolled back, and the run ends cancelled')
    .argument('<run-id>')
    .action(action(async (runId: string) => withRun(runId, async (run) => {
      await run.abort();
      console.log(`requested cancellation of ${runId}: each phase in flight stops (its worker hears of it within seconds), then its rollback runs, then the run ends cancelled; baton status ${runId}`);
    })));
}
