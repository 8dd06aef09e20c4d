/**
 * The package an MCP agent works from: the one its run saved for the phase it awaits (the
 * `awaiting.handoff_path` its status names), checked as `baton execute-phase` checks a package
 * (signature or, unsigned, against what the run recorded; dependencies' files present and
 * unchanged), with every dependency's context values stored by reference ($baton_ref) read in where
 * the file can be read, so an agent that cannot open the run's files still sees them.
 */
import type { Client } from '@temporalio/client';
import { recordedPackageProblem } from '../client/recorded-package.js';
import { readStructuredFile } from '../client/load-plan.js';
import { Orchestrator } from '../client/orchestrator.js';
import type { PhaseStatus } from '../core/api/status.js';
import { HandoffPackageSchema, type HandoffPackage, type PhaseContext } from '../core/handoff/schema.js';
import type { PhaseId } from '../core/plan/schema.js';
import { hydrateContext } from '../runner/context-store.js';
import { verifyKeysFromEnv } from '../runner/signing.js';
import { formatProblems, validatePackage } from '../runner/validate-package.js';
import { agentWorkdir, localPackageFile } from '../client/store-package.js';

/** A phase of the run awaiting an agent, as the run says now (its id as the plan gives it, "0" finding 0). */
export async function awaitingPhase(client: Client, run: string, phase: PhaseId): Promise<PhaseStatus & { awaiting: NonNullable<PhaseStatus['awaiting']> }> {
  const handle = new Orchestrator(client).run(run);
  for await (const p of handle.allPhases({ state: 'awaiting_agent' })) {
    if (String(p.id) === String(phase) && p.awaiting) return { ...p, awaiting: p.awaiting };
  }
  const known = (await handle.phases({ limit: 1000 })).phases.find((p) => String(p.id) === String(phase));
  throw new Error(
    known
      ? `run ${run} phase ${String(phase)} is ${known.state}, not awaiting an agent: list_awaiting_phases shows the phases there are to take`
      : `run ${run} has no phase ${JSON.stringify(phase)}: list_awaiting_phases shows the phases awaiting an agent`,
  );
}

/** The workdir a package's files are under, on this machine (with a store, this machine's cache, filled with its inputs). */
export const packageWorkdir = (pkg: HandoffPackage): Promise<string> => agentWorkdir(pkg);

/**
 * The phase's package as its run saved it, checked; throws with every problem found. An unsigned one
 * (a run with no key) is taken only once it is what the run's history recorded, as `baton
 * execute-phase --allow-unsigned` takes one online.
 */
export async function loadCheckedPackage(client: Client, given: string, run: string): Promise<HandoffPackage> {
  const file = await localPackageFile(given, run);
  const json = await readStructuredFile(file, 'the handoff package');
  const parsed = HandoffPackageSchema.safeParse(json);
  const workdir = parsed.success ? await packageWorkdir(parsed.data) : undefined;
  const checked = await validatePackage(json, { keys: verifyKeysFromEnv(), allowUnsigned: true, ...(workdir ? { workdir } : {}) });
  if (checked.problems.length > 0 || !checked.pkg) throw new Error(`the package ${file} is not valid:\n${formatProblems(checked.problems)}`);
  const pkg = checked.pkg;
  if (!pkg.signature) {
    // Unsigned, it vouches for nothing: it must be what its run recorded (as `baton execute-phase` does online).
    const problem = await recordedPackageProblem(client, pkg);
    if (problem) throw new Error(`the package ${file} is unsigned and ${problem}`);
  }
  return pkg;
}

export interface ResolvedInputs {
  dependency_contexts: Record<string, PhaseContext>;
  previous_phase_context: PhaseContext | null;
  /** Values left as $baton_ref because their file could not be read here, with why. */
  unresolved: Array<{ phase: string; problem: string }>;
}

/** The package's dependency contexts with stored values read in, each context on its own (one unreadable file leaves only its context as references). */
export async function resolveInputs(pkg: HandoffPackage): Promise<ResolvedInputs> {
  const workdir = await packageWorkdir(pkg);
  const unresolved: ResolvedInputs['unresolved'] = [];
  const resolve = async (key: string, c: PhaseContext): Promise<PhaseContext> => {
    try {
      return { ...c, context: await hydrateContext(workdir, c.context, `phase ${key}'s`) };
    } catch (err) {
      unresolved.push({ phase: key, problem: (err as Error).message });
      return c;
    }
  };
  const dependency_contexts: Record<string, PhaseContext> = {};
  for (const [key, c] of Object.entries(pkg.dependency_contexts)) dependency_contexts[key] = await resolve(key, c);
  const from = pkg.from_phase === null ? undefined : String(pkg.from_phase);
  const previous_phase_context = pkg.previous_phase_context && from !== undefined ? (dependency_contexts[from] ?? (await resolve(from, pkg.previous_phase_context))) : null;
  return { dependency_contexts, previous_phase_context, unresolved };
}
