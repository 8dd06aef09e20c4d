/**
 * The tools `baton mcp` offers an LLM coding agent, each a thin layer over the code `baton agent`
 * runs: the inbox (listAwaitingPhases), claims and leases (claimPhase, claimNext, heartbeatClaim,
 * releaseClaim), the package (as `baton execute-phase` checks it), progress (reportProgress) and the
 * result, which the server seals with its key (buildAgentResult) in the claim holder's name and the
 * run checks as it checks any agent's (completePhase). A tool that fails throws: the server answers
 * with a tool error (isError) carrying the message, which says what to do next.
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { claimNext, claimPhase, defaultAgentName, heartbeatClaim, releaseClaim } from '../client/agent-claims.js';
import { labelsAllow, listAwaitingPhases } from '../client/agent-inbox.js';
import { agentProvenance, buildAgentResult, type AgentOutcome } from '../client/agent-result.js';
import { Orchestrator } from '../client/orchestrator.js';
import { LEASE_S } from '../core/api/messages.js';
import type { PhaseId } from '../core/plan/schema.js';
import { collectOutput } from '../runner/phase-output.js';
import { awaitingPhase, loadCheckedPackage, packageWorkdir, resolveInputs } from './handoff.js';
import { configuredStore, pushContext } from '../runner/store/sync.js';

export interface ToolContext {
  /** The Temporal client, connected on first use. */
  client(): Promise<Client>;
}

/** A phase id as an agent may give it: 0 or "0" for the phase whose id is 0, "review" for "review". */
const phaseArg = z
  .union([z.number().int().nonnegative(), z.string().min(1).max(200)])
  .describe('The phase id, as list_awaiting_phases gives it (a number or a string).');
/** "0" names the phase whose id is 0 (as the CLI reads ids typed as words). */
const phaseId = (v: string | number): PhaseId => (typeof v === 'string' && /^(0|[1-9][0-9]{0,14})$/.test(v) ? Number(v) : v);
const runArg = z.string().min(1).describe('The run (its workflow id), as list_awaiting_phases gives it.');
const leaseIdArg = z.string().min(1).max(100).describe('The lease_id claim_phase returned.');
const leaseSArg = z.number().min(1).max(LEASE_S.max).describe(`How long the claim lasts without a heartbeat (report_progress with the lease_id, or submit_result), in seconds: 1 to ${LEASE_S.max} (default ${LEASE_S.default}). When it ends, the phase returns to the inbox.`);

export const listShape = {
  run: runArg.optional().describe('Only this run.'),
  plan: z.string().min(1).optional().describe('Only runs of this plan.'),
  class: z.string().min(1).optional().describe('Only phases of this resource class.'),
  labels: z.array(z.string().min(1)).optional().describe('The labels this agent has: only phases it may claim with them (phases may require some).'),
};
export const claimShape = {
  run: runArg.optional().describe('Only a phase of this run (needed with phase).'),
  phase: phaseArg.optional().describe('This phase (with run); without it, the oldest phase awaiting an agent that this agent may take.'),
  agent: z.string().min(1).max(200).optional().describe('Who claims, e.g. "claude-code": the result is recorded as this agent\'s (default: BATON_AGENT_NAME where the server runs, else user@host).'),
  labels: z.array(z.string().min(1).max(100)).max(64).optional().describe('The labels this agent has (a phase may require some).'),
  lease_s: leaseSArg.optional(),
};
export const handoffShape = { run: runArg, phase: phaseArg };
export const progressShape = {
  run: runArg,
  phase: phaseArg,
  message: z.string().min(1).max(1000).describe('What the agent is doing now, in a line.'),
  percent: z.number().min(0).max(100).optional().describe('How far along, 0 to 100, when the agent knows.'),
  lease_id: leaseIdArg.optional().describe('The claim\'s lease_id: given, the lease is renewed too (a heartbeat).'),
};
export const submitShape = {
  run: runArg,
  phase: phaseArg,
  lease_id: leaseIdArg,
  outcome: z.enum(['completed', 'failed']).describe('completed: the work is done and context (and artifacts) are its output; failed: it could not be done, and error says why (the run holds the phase for an operator).'),
  context: z.record(z.string(), z.unknown()).optional().describe("The phase's output (completed): a JSON object its dependants read, which must match the package's output_schema."),
  artifacts: z.record(z.string(), z.string()).optional().describe("Files the phase made (completed): name -> path relative to the run's workdir (the package's execution_instructions.workdir); each is hashed."),
  error: z.string().min(1).optional().describe('Why the work failed (failed): a few lines.'),
};
export const releaseShape = { run: runArg, phase: phaseArg, lease_id: leaseIdArg };

type Args<S extends Record<string, z.ZodType>> = z.infer<z.ZodObject<S>>;

export async function listAwaiting(ctx: ToolContext, args: Args<typeof listShape>) {
  const listed = await listAwaitingPhases(await ctx.client(), {
    ...(args.run ? { runs: [args.run] } : {}),
    ...(args.plan ? { plan: args.plan } : {}),
    ...(args.class ? { classes: [args.class] } : {}),
  });
  const phases = args.labels ? listed.filter((p) => labelsAllow(p, args.labels!)) : listed;
  return {
    phases,
    count: phases.length,
    next: phases.length > 0 ? 'claim_phase with a phase\'s run and phase (one whose claim is null, or whose claim expired) to take it' : 'nothing is awaiting an agent now; list again later',
  };
}

export async function claim(ctx: ToolContext, given: Args<typeof claimShape>) {
  const args = { ...given, phase: given.phase === undefined ? undefined : phaseId(given.phase) };
  if (args.phase !== undefined && args.run === undefined) throw new Error('claim_phase: a phase needs its run (phase ids are per run): give run too, or neither to take the oldest phase waiting');
  const client = await ctx.client();
  const agent = args.agent ?? defaultAgentName();
  const labels = args.labels ?? [];
  const after = (c: { run: string; phase: PhaseId; lease_id: string; lease_s: number }) =>
    `get_handoff {"run": ${JSON.stringify(c.run)}, "phase": ${JSON.stringify(c.phase)}} for the work; report_progress with the lease_id within ${c.lease_s} s to keep the claim; submit_result when done, or release_phase to give it back`;
  if (args.phase !== undefined) {
    const c = await claimPhase(client, args.run!, {
      phase: args.phase,
      agent,
      ...(labels.length > 0 ? { labels } : {}),
      ...(args.lease_s === undefined ? {} : { lease_s: args.lease_s }),
    });
    return { ...c, next: after(c) };
  }
  const outcome = await claimNext(client, {
    ...(args.run ? { runs: [args.run] } : {}),
    agent,
    labels,
    ...(args.lease_s === undefined ? {} : { lease_s: args.lease_s }),
  });
  if (!outcome.claim) {
    const why = outcome.waiting === 0 ? 'no phase is awaiting an agent' : `none of the ${outcome.waiting} phases awaiting an agent may be claimed by ${JSON.stringify(agent)} now (claimed by others, or needing labels it lacks)`;
    const refused = outcome.refused.map((r) => `run ${r.run} phase ${String(r.phase)}: ${r.reason}`);
    throw new Error([`claim_phase: ${why}; list_awaiting_phases shows what is waiting`, ...refused].join('\n'));
  }
  return { ...outcome.claim, next: after(outcome.claim) };
}

export async function getHandoff(ctx: ToolContext, given: Args<typeof handoffShape>) {
  const args = { ...given, phase: phaseId(given.phase) };
  const client = await ctx.client();
  const p = await awaitingPhase(client, args.run, args.phase);
  const pkg = await loadCheckedPackage(client, p.awaiting.handoff_path, args.run);
  if (pkg.content_hash !== p.awaiting.package_hash) {
    throw new Error(`run ${args.run} phase ${String(p.id)} awaits a result for package ${p.awaiting.package_hash}, but ${p.awaiting.handoff_path} holds ${pkg.content_hash ?? 'an unsealed one'}: the run handed the phase out again; get_handoff again`);
  }
  const inputs = await resolveInputs(pkg);
  const { previous_phase_context: _previous, dependency_contexts: _deps, execution_instructions, output_schema, ...rest } = pkg;
  return {
    run: args.run,
    phase: p.id,
    name: pkg.phase_name,
    generation: pkg.generation,
    attempt: pkg.attempt,
    package_hash: pkg.content_hash,
    handoff_path: p.awaiting.handoff_path,
    workdir: await packageWorkdir(pkg),
    deadline: p.awaiting.deadline,
    claim: p.awaiting.claim ?? null,
    instructions: execution_instructions,
    output_schema: output_schema ?? null,
    dependency_contexts: inputs.dependency_contexts,
    previous_phase_context: inputs.previous_phase_context,
    unresolved_refs: inputs.unresolved,
    package: rest,
    next: 'do the work the instructions describe (its command, with the phase_config), then submit_result with outcome, context (matching output_schema) and artifacts (paths relative to workdir)',
  };
}

export async function reportProgress(ctx: ToolContext, given: Args<typeof progressShape>) {
  const args = { ...given, phase: phaseId(given.phase) };
  const client = await ctx.client();
  await new Orchestrator(client).run(args.run).reportProgress(args.phase, args.message, args.percent);
  const lease = args.lease_id === undefined ? null : await heartbeatClaim(client, args.run, args.phase, args.lease_id);
  return { reported: true, lease };
}

export async function submitResult(ctx: ToolContext, given: Args<typeof submitShape>) {
  const args = { ...given, phase: phaseId(given.phase) };
  const client = await ctx.client();
  const key = String(args.phase);
  // The claim first, renewed: a result under a lease that ended is not sent (as `baton agent submit --lease`).
  try {
    await heartbeatClaim(client, args.run, args.phase, args.lease_id);
  } catch (err) {
    throw new Error(`run ${args.run} phase ${key}: the claim is not held (${(err as Error).message}); nothing was sent: claim the phase again to report on it`);
  }
  const p = await awaitingPhase(client, args.run, args.phase);
  const held = p.awaiting.claim;
  if (!held || held.lease_id !== args.lease_id) throw new Error(`run ${args.run} phase ${key}: lease ${JSON.stringify(args.lease_id)} is no longer its claim; nothing was sent`);
  const pkg = await loadCheckedPackage(client, p.awaiting.handoff_path, args.run);
  if (pkg.content_hash !== p.awaiting.package_hash) throw new Error(`run ${args.run} phase ${key} was handed out again (package ${p.awaiting.package_hash}); get_handoff and do the work from the new package`);

  let outcome: AgentOutcome;
  if (args.outcome === 'failed') {
    if (!args.error) throw new Error('submit_result: a failed outcome needs error, saying why the work failed; nothing was sent');
    outcome = { ok: false, error: args.error };
  } else {
    if (args.error) throw new Error('submit_result: a completed outcome takes context and artifacts, not error (send outcome "failed" for that); nothing was sent');
    try {
      const workdir = await packageWorkdir(pkg);
      const output = await collectOutput(workdir, { context: args.context ?? {}, artifacts: args.artifacts ?? {} }, `phase ${key}'s`, pkg.safe_keys);
      // With a store, the run reads the result's files from there: stored before the result is sent.
      const store = configuredStore(pkg.execution_instructions.store);
      if (store) await pushContext(store, workdir, output, `phase ${key}'s`);
      outcome = { ok: true, output };
    } catch (err) {
      throw new Error(`the result for run ${args.run} phase ${key} was not sent: ${(err as Error).message}. The phase keeps waiting: fix it and submit_result again`);
    }
  }
  // Sealed here with the server's key, in the name of the claim's holder (the run takes a result only from it).
  const provenance = { ...agentProvenance('online', new Date(held.since), new Date()), agent: held.agent };
  const result = buildAgentResult(pkg, outcome, provenance);
  try {
    const answer = await new Orchestrator(client).run(args.run).complete(result);
    return { accepted: answer.accepted, phase: answer.phase };
  } catch (err) {
    throw new Error(`run ${args.run} refused the result: ${(err as Error).message} Your claim (lease ${args.lease_id}) still holds: fix the result and submit_result again.`);
  }
}

export async function release(ctx: ToolContext, given: Args<typeof releaseShape>) {
  const args = { ...given, phase: phaseId(given.phase) };
  const released = await releaseClaim(await ctx.client(), args.run, args.phase, args.lease_id);
  return { ...released, next: 'the phase is back in the inbox (list_awaiting_phases)' };
}
