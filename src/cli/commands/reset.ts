/**
 * `baton reset <run> --to-phase <id>`: Temporal's Reset, to the point where a phase was started.
 * The Web UI's Reset dialog and `temporal workflow reset` take an event id; this finds it (the
 * workflow task that started the phase's latest generation), resets, and says what follows.
 */
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { planResetToPhase, resetRun } from '../../client/reset.js';
import { action } from '../errors.js';

interface ResetOptions {
  toPhase: string;
  reason?: string;
  json?: boolean;
  dryRun?: boolean;
}

const list = (keys: string[]): string => (keys.length === 1 ? `phase ${keys[0]}` : `phases ${keys.join(', ')}`);

export function registerReset(program: Command): void {
  program
    .command('reset')
    .description("Temporal's Reset, to just before a phase started: the phase and everything the run did after it run again (as new generations)")
    .argument('<run-id>')
    .requiredOption('--to-phase <id>', 'the phase to run again, and everything after it')
    .option('--reason <text>', 'recorded with the reset in history and in the run\'s status')
    .option('--json', 'print what was done as JSON')
    .option('--dry-run', 'only say which event it would reset to (for the Web UI\'s Reset dialog or temporal workflow reset), and what would run again')
    .action(
      action(async (runId: string, opts: ResetOptions) => {
        const client = await connectClient();
        const plan = await planResetToPhase(client, runId, opts.toPhase);
        const reason = opts.reason ?? `baton reset --to-phase ${opts.toPhase}`;
        if (opts.dryRun) {
          if (opts.json) return console.log(JSON.stringify({ workflow_id: runId, run_id: plan.runId, event_id: plan.eventId, phase: plan.phase, generation: plan.generation, rerun: plan.rerun, in_flight: plan.inFlight }, null, 2));
          const lines = [
            `would reset run ${runId} to event ${plan.eventId} of Temporal run ${plan.runId}: the workflow task that started phase ${plan.phase} (generation ${plan.generation}) at ${plan.startedAt}`,
            `  would run again, as new generations: ${list(plan.rerun)}`,
          ];
          if (plan.inFlight.length > 0) lines.push(`  in flight at that point, dispatched again with the same package: ${list(plan.inFlight)}`);
          lines.push(`the same by hand: temporal workflow reset --workflow-id ${runId} --run-id ${plan.runId} --event-id ${plan.eventId} --reason "…"`);
          return console.log(lines.join('\n'));
        }
        const newRunId = await resetRun(client, plan, reason);
        if (opts.json) {
          console.log(JSON.stringify({ workflow_id: runId, base_run_id: plan.runId, new_run_id: newRunId, event_id: plan.eventId, phase: plan.phase, generation: plan.generation, rerun: plan.rerun, in_flight: plan.inFlight, reason }, null, 2));
          return;
        }
        const lines = [
          `reset run ${runId} to event ${plan.eventId} of Temporal run ${plan.runId}: the workflow task that started phase ${plan.phase} (generation ${plan.generation}) at ${plan.startedAt}`,
          `  Temporal run ${plan.runId} has ended (terminated by the reset); run ${newRunId} goes on from that point`,
          `  run again, as new generations: ${list(plan.rerun)}`,
        ];
        if (plan.inFlight.length > 0) lines.push(`  in flight at that point, dispatched again with the same package: ${list(plan.inFlight)}`);
        lines.push('  signals sent after that point are applied again', `follow it: baton watch ${runId}`);
        console.log(lines.join('\n'));
      }),
    );
}
