/**
 * `baton run <plan>`: check the plan, start the run, follow it to the end.
 */
import type { Command } from 'commander';
import { connectClient, connectSettings } from '../../client/connection.js';
import { loadRun } from '../../client/load-plan.js';
import { batonUiBase } from '../../client/ui-links.js';
import { Orchestrator } from '../../client/orchestrator.js';
import { planResume } from '../../client/resume.js';
import { runLinkLines } from '../../client/ui-links.js';
import { action } from '../errors.js';
import { renderStatusTable } from '../format.js';
import { followRun } from '../progress.js';

interface RunOptions {
  config?: string;
  id?: string;
  json?: boolean;
  wait: boolean;
  resumeFrom?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('check a plan and start a durable run of it')
    .argument('<plan>', 'plan file (JSON or YAML)')
    .option('-c, --config <file>', 'orchestrator_config.json')
    .option('--id <run-id>', 'run id (the workflow id); generated when absent')
    .option('--json', 'print the final status as JSON')
    .option('--no-wait', 'start the run and return at once')
    .option('--resume-from <run-id>', "reuse the earlier run's completed phases (unchanged, files checked by hash); run only the rest")
    .action(
      action(async (planFile: string, opts: RunOptions) => {
        const loaded = await loadRun(planFile, opts.config);
        const { plan } = loaded;
        // The run's current details link to baton ui's page for it, when BATON_UI_URL says where one serves.
        let uiBase = batonUiBase();
        if (uiBase && !(/^https?:\/\//.test(uiBase) && URL.canParse(uiBase))) {
          console.error(`baton: BATON_UI_URL=${uiBase} is not an http:// or https:// address (baton ui prints the one to use); the run's details will not link to baton ui`);
          uiBase = undefined;
        }
        const config = loaded.config.baton_ui_url || !uiBase ? loaded.config : { ...loaded.config, baton_ui_url: uiBase };
        const settings = connectSettings();
        const orchestrator = new Orchestrator(await connectClient(settings));
        const say = opts.json ? console.error : console.log;
        let resume;
        if (opts.resumeFrom) {
          const planned = await planResume(orchestrator.client, opts.resumeFrom, plan);
          resume = planned.resume;
          say(`reusing ${planned.reused.length ? `phases ${planned.reused.join(', ')}` : 'no phase'} from run ${opts.resumeFrom}`);
          for (const r of planned.rerun) say(`  phase ${r.phase} runs again: ${r.why}`);
        }
        const run = await orchestrator.start(plan, config, { ...(opts.id ? { runId: opts.id } : {}), ...(resume ? { resume } : {}) });
        say([`started run ${run.runId} (${plan.phases.length} phases)`, ...runLinkLines(settings, run.runId)].join('\n'));
        if (!opts.wait) return;
        const status = await followRun(run, { quiet: opts.json === true });
        if (opts.json) console.log(JSON.stringify(status, null, 2));
        else if (!process.stdout.isTTY) console.log(renderStatusTable(status));
        if (status.state === 'completed') return;
        const failed = Object.entries(status.phases).filter(([, p]) => p.state === 'failed');
        for (const [key, p] of failed.slice(0, 20)) console.error(`baton: phase ${key} (${p.name}) failed: ${p.error ?? 'unknown error'}`);
        const allFailed = status.summary?.by_state.failed ?? failed.length;
        if (allFailed > Math.min(20, failed.length)) console.error(`baton: … and ${allFailed - Math.min(20, failed.length)} more failed phases: baton status ${run.runId} --state failed`);
        if (status.state === 'held') {
          console.error(`baton: run ${run.runId} holds for an operator: baton retry ${run.runId} <phase>, or baton skip ${run.runId} <phase>`);
        } else {
          console.error(`baton: run ${run.runId} ended ${status.state}`);
        }
        process.exitCode = 1;
      }),
    );
}
