/**
 * `baton submit <result.json>`: report a result made offline (`execute-phase --offline`)
 * to its run, from any machine that reaches Temporal.
 */
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { readStructuredFile } from '../../client/load-plan.js';
import { Orchestrator } from '../../client/orchestrator.js';
import { AgentResultSchema } from '../../core/handoff/result.js';
import { PlanError, zodProblems } from '../../core/plan/problems.js';
import { action } from '../errors.js';

export function registerSubmit(program: Command): void {
  program
    .command('submit')
    .description('report an offline result to its run (the completePhase update)')
    .argument('<result>', 'result file written by `baton execute-phase --offline --out <file>`')
    .option('--run <run-id>', "send it to this run instead of the one named in the result's execution_id")
    .action(
      action(async (file: string, opts: { run?: string }) => {
        const parsed = AgentResultSchema.safeParse(await readStructuredFile(file, 'the result'));
        if (!parsed.success) throw new PlanError(`the result ${file}`, zodProblems(parsed.error));
        const result = parsed.data;
        const runId = opts.run ?? result.execution_id;
        try {
          await new Orchestrator(await connectClient()).run(runId).complete(result);
        } catch (err) {
          throw new Error(`run ${runId} refused ${file}: ${(err as Error).message}`);
        }
        console.log(`run ${runId} accepted ${file}: phase ${String(result.phase)} ${result.outcome}`);
      }),
    );
}
