/**
 * `baton submit <result.json>`: report a result made offline (`execute-phase --offline`)
 * to its run, from any machine that reaches Temporal.
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { readStructuredFile } from '../../client/load-plan.js';
import { Orchestrator } from '../../client/orchestrator.js';
import { AgentResultSchema, type AgentResult } from '../../core/handoff/result.js';
import { PlanError, zodProblems } from '../../core/plan/problems.js';
import { action } from '../errors.js';

export function registerSubmit(program: Command): void {
  program
    .command('submit')
    .description('report an offline result to its run (the completePhase update)')
    .argument('<result>', 'result file written by `baton execute-phase --offline --out <file>`')
    .option('--run <run-id>', "send it to this run instead of the one named in the result's execution_id")
    .action(action(async (file: string, opts: { run?: string }) => submitResultFile(file, opts.run)));
}

/** Reads a result file and reports it to its run (or `runId`): what `baton submit` and `baton agent submit` do. */
export async function submitResultFile(file: string, runId?: string, before?: (client: Client, runId: string, result: AgentResult) => Promise<void>): Promise<void> {
  const parsed = AgentResultSchema.safeParse(await readStructuredFile(file, 'the result'));
  if (!parsed.success) throw new PlanError(`the result ${file}`, zodProblems(parsed.error));
  const result = parsed.data;
  const run = runId ?? result.execution_id;
  const client = await connectClient();
  if (before) await before(client, run, result);
  try {
    await new Orchestrator(client).run(run).complete(result);
  } catch (err) {
    throw new Error(`run ${run} refused ${file}: ${(err as Error).message}`);
  }
  console.log(`run ${run} accepted ${file}: phase ${String(result.phase)} ${result.outcome}`);
}
