/**
 * The orchestrator's side of the guide's mode 2: writing a package for an external agent,
 * and checking what the agent reports before the workflow accepts it.
 */
import path from 'node:path';
import { failure } from '../core/api/failures.js';
import { formatPath } from '../core/plan/problems.js';
import { z } from 'zod';
import type { AgentResult } from '../core/handoff/result.js';
import { withPreviousContext } from '../core/handoff/build.js';
import { isContextRef, type HandoffPackage } from '../core/handoff/schema.js';
import { describeFindings, findSecrets } from '../core/handoff/secrets.js';
import { verifyKeysFromEnv, verifySealed } from '../runner/signing.js';
import { contextFileProblems } from '../runner/validate-package.js';
import { hydrateContext } from '../runner/context-store.js';
import { sealAndSave } from '../runner/prepare-handoff.js';
import type { AgentHandoff, ResultCheck } from './types.js';
import { resolveWorkdir, runPaths } from '../runner/workdir.js';


export async function handOffToAgent(transported: HandoffPackage): Promise<AgentHandoff> {
  const pkg = withPreviousContext(transported);
  const workdir = resolveWorkdir(pkg.execution_instructions.workdir, pkg.execution_instructions.base_dir);
  const handoffs = runPaths(workdir, pkg.execution_id).handoffs;
  try {
    // An agent needs the file, whatever agent_handoff_enabled says.
    const { pkg: sealed, savedPath } = await sealAndSave(pkg, handoffs, true);
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
  if (result.output) {
    for (const p of await contextFileProblems(workdir, result.output, ['output'])) problems.push(`${p.path}: ${p.message}`);
    // Values stored by reference reach dependants' packages whole: scanned whole (the workflow scanned what is inline).
    if (problems.length === 0 && Object.values(result.output.context).some(isContextRef)) {
      const full = await hydrateContext(workdir, result.output.context, `phase ${String(result.phase)}'s`);
      const stored = findSecrets(full, { root: 'output.context', safeKeys: check.safe_keys ?? [] });
      problems.push(...describeFindings(stored, 'output a reference to the secret instead (the agent\'s environment, a vault path)'));
    }
    if (check.output_schema && problems.length === 0) problems.push(...(await schemaProblems(workdir, result, check.output_schema)));
  }
  if (problems.length > 0) {
    throw failure('ResultRefused', `the result for phase ${String(result.phase)} was refused: ${problems.join('; ')}. The phase keeps waiting for a good result.`, problems);
  }
}

async function schemaProblems(workdir: string, result: AgentResult, schema: Record<string, unknown>): Promise<string[]> {
  let validator: z.ZodType;
  try {
    validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (err) {
    return [`the plan's output_schema for phase ${String(result.phase)} cannot be used (${(err as Error).message}); fix the plan`];
  }
  const context = await hydrateContext(workdir, result.output!.context, `phase ${String(result.phase)}'s`);
  const parsed = validator.safeParse(context);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => `${formatPath(['output', 'context', ...i.path])}: ${i.message} (the plan's output_schema)`);
}
