/**
 * The orchestrator's side of the guide's mode 2: writing a package for an external agent,
 * and checking what the agent reports before the workflow accepts it.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { failure } from '../core/api/failures.js';
import type { AgentResult } from '../core/handoff/result.js';
import { withPreviousContext } from '../core/handoff/build.js';
import { isContextRef, type HandoffPackage } from '../core/handoff/schema.js';
import { describeFindings, findSecrets } from '../core/handoff/secrets.js';
import { verifyKeysFromEnv, verifySealed } from '../runner/signing.js';
import { contextFileProblems } from '../runner/validate-package.js';
import { hydrateContext } from '../runner/context-store.js';
import { checkOutputSchema, outputSchemaProblems, schemaCheckLimits, tooLarge } from '../runner/output-schema.js';
import { sealAndSave } from '../runner/prepare-handoff.js';
import type { AgentHandoff, ResultCheck } from './types.js';
import { resolveWorkdir, runPaths } from '../runner/workdir.js';
import { configuredStore, pullContext, pushRunFile, runKey, type VerifiedFiles } from '../runner/store/sync.js';


export async function handOffToAgent(transported: HandoffPackage): Promise<AgentHandoff> {
  const pkg = withPreviousContext(transported);
  const workdir = resolveWorkdir(pkg.execution_instructions.workdir, pkg.execution_instructions.base_dir);
  const handoffs = runPaths(workdir, pkg.execution_id).handoffs;
  try {
    // An agent needs the file, whatever agent_handoff_enabled says.
    const { pkg: sealed, savedPath, savedFiles } = await sealAndSave(pkg, handoffs, true);
    // With a store, an agent on another machine finds the package there (and `baton handoff bundle` does).
    const store = configuredStore(pkg.execution_instructions.store);
    if (store) for (const file of savedFiles) await pushRunFile(store, workdir, file);
    return { package_hash: sealed.content_hash!, handoff_path: savedPath!, script_path: path.join(handoffs, `execute_phase_${String(pkg.to_phase)}.sh`) };
  } catch (err) {
    throw failure('HandoffFailed', `the package of phase ${String(pkg.to_phase)} (${pkg.phase_name}) could not be written for an agent: ${(err as Error).message}`);
  }
}

/**
 * What the workflow cannot check itself: the signature (keys never enter workflow code or
 * history), the reported files, and the output schema against the full context values.
 */
export async function verifyAgentResult(result: AgentResult, check: ResultCheck): Promise<void> {
  const problems: string[] = [];
  const verified = verifySealed(result, verifyKeysFromEnv(), { allowUnsigned: check.accept_unsigned, noun: 'result' });
  if (!verified.ok) problems.push(verified.problem);
  const workdir = resolveWorkdir(check.workdir, check.base_dir);
  const store = configuredStore(check.store);
  let fetched: VerifiedFiles | undefined;
  if (result.output && store) {
    // The agent stored its files before it reported (`baton submit` does): this machine reads them from there.
    await mkdir(workdir, { recursive: true });
    fetched = await pullContext(store, workdir, result.output, 'the result\'s').catch((err: unknown) => {
      throw failure('StoreUnavailable', `the result for phase ${String(result.phase)} could not be checked: its files could not be fetched from the store ${store.description}: ${(err as Error).message}`);
    });
  }
  if (result.output) {
    for (const p of await contextFileProblems(workdir, result.output, ['output'], fetched)) problems.push(`${p.path}: ${p.message}`);
    // Values stored by reference reach dependants' packages whole: scanned whole (the workflow scanned what is inline).
    if (problems.length === 0 && Object.values(result.output.context).some(isContextRef)) {
      const full = await hydrateContext(workdir, result.output.context, `phase ${String(result.phase)}'s`);
      const stored = findSecrets(full, { root: 'output.context', safeKeys: check.safe_keys ?? [] });
      problems.push(...describeFindings(stored, 'output a reference to the secret instead (the agent\'s environment, a vault path)'));
    }
    if (check.output_schema && problems.length === 0) problems.push(...(await schemaProblems(workdir, result.phase, result.output.context, check.output_schema)));
  }
  if (problems.length > 0) {
    throw failure('ResultRefused', `the result for phase ${String(result.phase)} was refused: ${problems.join('; ')}. The phase keeps waiting for a good result.`, problems);
  }
  // With a store, the checked result is kept beside the run's other files (the run may still refuse
  // it if the phase moved meanwhile: the name says which package it answers, not that it was taken).
  if (store) {
    await store.put(resultKey(result), `${JSON.stringify(result, null, 2)}\n`).catch((err: unknown) => {
      throw failure('StoreUnavailable', `the result for phase ${String(result.phase)} could not be stored in ${store.description}: ${(err as Error).message}`);
    });
  }
}

/** Where a checked result is kept in the store: `runs/<run>/results/phase_<id>.g<generation>.a<attempt>.json`. */
export function resultKey(result: Pick<AgentResult, 'execution_id' | 'phase' | 'generation' | 'attempt'>): string {
  return runKey(result.execution_id, 'results', `phase_${String(result.phase)}.g${result.generation}.a${result.attempt}.json`);
}

/** Why phases' output_schemas (by index in the plan) cannot be used: compiled on worker threads, with a time limit. */
export async function checkOutputSchemas(schemas: Record<string, Record<string, unknown>>): Promise<Record<string, string>> {
  return outputSchemaProblems(schemas);
}

/**
 * The result's context against the phase's output_schema, with the full values (stored ones read
 * back), on a worker thread: a check past the time limit, or a value past the size limit, refuses
 * the result rather than holding the orchestrator worker.
 */
export async function schemaProblems(workdir: string, phase: string | number, context: Record<string, unknown>, schema: Record<string, unknown>): Promise<string[]> {
  const limits = schemaCheckLimits();
  const root = ['output', 'context'];
  // Stored values declare their size: one too large is refused before it is read.
  const declared = Object.values(context).reduce<number>((sum, v) => sum + (isContextRef(v) ? v.$baton_ref.size : 0), JSON.stringify(context).length);
  if (declared > limits.maxBytes) return [tooLarge(root, declared, limits)];
  const full = await hydrateContext(workdir, context, `phase ${String(phase)}'s`);
  const verdict = await checkOutputSchema(schema, full, root, limits);
  if (verdict.ok) return [];
  if ('unusable' in verdict) return [`the plan's output_schema for phase ${String(phase)} cannot be used (${verdict.unusable}); fix the plan`];
  return verdict.problems.map((p) => `${p} (the plan's output_schema)`);
}
