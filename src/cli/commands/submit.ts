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
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkdir, isBundleName, readResultBundle } from '../../runner/bundle.js';
import { deliverResultFiles, runFilesOf } from '../../client/phase-bundle.js';
import type { PhaseContext } from '../../core/handoff/schema.js';
import type { Store } from '../../runner/store/store.js';
import { configuredStore, contextFiles, pushContext } from '../../runner/store/sync.js';

export function registerSubmit(program: Command): void {
  program
    .command('submit')
    .description('report an offline result to its run (the completePhase update)')
    .argument('<result>', 'result file written by `baton execute-phase --offline --out <file>`, or a result bundle (.tar.gz: the result and its files)')
    .option('--run <run-id>', "send it to this run instead of the one named in the result's execution_id")
    .option('--workdir <dir>', "with BATON_STORE: where the result's files are on this machine, to store those the store lacks")
    .action(action(async (file: string, opts: { run?: string; workdir?: string }) => submitResultFile(file, opts.run, undefined, opts.workdir)));
}

/** Reads a result file and reports it to its run (or `runId`): what `baton submit` and `baton agent submit` do. */
export async function submitResultFile(file: string, runId?: string, before?: (client: Client, runId: string, result: AgentResult) => Promise<void>, workdir?: string): Promise<void> {
  if (isBundleName(file)) return submitResultBundle(file, runId, before);
  const parsed = AgentResultSchema.safeParse(await readStructuredFile(file, 'the result'));
  if (!parsed.success) throw new PlanError(`the result ${file}`, zodProblems(parsed.error));
  const result = parsed.data;
  const run = runId ?? result.execution_id;
  const client = await connectClient();
  const handle = new Orchestrator(client).run(run);
  // The run's store is its config's, or BATON_STORE here: asked of the run only when the result names files.
  if (result.output && contextFiles(result.output).length > 0) {
    // A run that cannot answer is reported by the update below, in its own words.
    const runStore = await handle.status().then((s) => s.store, () => undefined);
    await storeResultFiles(result, file, workdir, runStore);
  }
  if (before) await before(client, run, result);
  try {
    await handle.complete(result);
  } catch (err) {
    throw new Error(`run ${run} refused ${file}: ${(err as Error).message}`);
  }
  console.log(`run ${run} accepted ${file}: phase ${String(result.phase)} ${result.outcome}`);
}

/**
 * With a store (BATON_STORE), the run reads a result's files from there: those it lacks are stored
 * from `workdir` first, and a result whose files are nowhere to be found is not sent.
 */
async function storeResultFiles(result: AgentResult, file: string, workdir: string | undefined, runStore: string | undefined): Promise<void> {
  const store = configuredStore(runStore);
  if (!store || !result.output) return;
  const lacking = await missingFromStore(store, result.output);
  if (lacking.length === 0) return;
  if (!workdir) {
    throw new PlanError(`the result ${file}`, [`the store ${store.description} lacks ${lacking.join(', ')}; pass --workdir naming the directory the result's paths are relative to, to store them first`]);
  }
  await pushContext(store, path.resolve(workdir), result.output, `the result's`);
}

async function missingFromStore(store: Store, output: PhaseContext): Promise<string[]> {
  const missing: string[] = [];
  for (const ref of contextFiles(output)) if (!(await store.hasContent(ref.sha256))) missing.push(ref.path);
  return missing;
}

/**
 * A result bundle: unpacked and checked (every file against the result's hashes), its files put
 * where the run reads them (the store, or the run's workdir here), then the result reported.
 */
async function submitResultBundle(file: string, runId: string | undefined, before?: (client: Client, runId: string, result: AgentResult) => Promise<void>): Promise<void> {
  const { result, dir } = await readResultBundle(file);
  try {
    const run = runId ?? result.execution_id;
    const client = await connectClient();
    if (before) await before(client, run, result);
    const handle = new Orchestrator(client).run(run);
    if (result.output) await deliverResultFiles(runFilesOf(await handle.status()), result.output, bundleWorkdir(dir));
    try {
      await handle.complete(result);
    } catch (err) {
      throw new Error(`run ${run} refused ${file}: ${(err as Error).message}`);
    }
    console.log(`run ${run} accepted ${file}: phase ${String(result.phase)} ${result.outcome}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
