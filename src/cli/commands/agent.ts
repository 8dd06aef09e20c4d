/**
 * `baton agent`: the agent inbox. `baton agent list` shows every phase awaiting an external agent,
 * across runs (filterable by run, plan, resource class and labels), with the package to run;
 * `claim` takes one for a lease, `heartbeat` renews it, `release` gives it back, `submit` reports.
 */
import type { Command } from 'commander';
import { claimNext, defaultAgentName, heartbeatClaim, releaseClaim } from '../../client/agent-claims.js';
import { labelsAllow, listAwaitingPhases } from '../../client/agent-inbox.js';
import { connectClient } from '../../client/connection.js';
import { LEASE_S } from '../../core/api/messages.js';
import { resultAgent } from '../../core/workflows/claims.js';
import type { PhaseId } from '../../core/plan/schema.js';
import { action, UsageError } from '../errors.js';
import { submitResultFile } from './submit.js';
import { localPackageFile } from '../../client/store-package.js';

/** `baton agent claim` exits with this when nothing it may take is waiting. */
export const NOTHING_WAITING_EXIT = 3;

/** A phase id as typed: a number when it is one (plans give ids as numbers or strings). */
const phaseArg = (v: string): PhaseId => (/^(0|[1-9][0-9]{0,14})$/.test(v) ? Number(v) : v);

function leaseArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1 || n > LEASE_S.max) throw new UsageError(`--lease-s must be a number of seconds from 1 to ${LEASE_S.max}, got ${JSON.stringify(v)}`);
  return n;
}

const repeatable = (v: string, acc: string[]): string[] => [...acc, v];

export function registerAgent(program: Command): void {
  const agent = program.command('agent').description('the agent inbox: phases awaiting an external agent, across runs');
  agent
    .command('list')
    .description('every phase awaiting an agent in the live runs, oldest first, with the package to run (`baton execute-phase <package>`)')
    .option('--run <run-id>', 'only this run; repeat for more', repeatable, [])
    .option('--plan <name>', 'only runs of this plan')
    .option('--class <name>', 'only phases of this resource class; repeat for more', repeatable, [])
    .option('--label <label>', 'only phases an agent with these labels may claim; repeat for more', repeatable, [])
    .option('--json', 'a JSON array, one object a phase (run, plan, phase, name, resource_class, generation, attempt, since, deadline, package_hash, handoff_path, script_path, agent_labels, claim)')
    .action(
      action(async (opts: { run: string[]; plan?: string; class: string[]; label: string[]; json?: boolean }) => {
        const listed = await listAwaitingPhases(await connectClient(), { runs: opts.run, plan: opts.plan, classes: opts.class });
        const phases = opts.label.length > 0 ? listed.filter((p) => labelsAllow(p, opts.label)) : listed;
        if (opts.json) return console.log(JSON.stringify(phases, null, 2));
        if (phases.length === 0) return console.log('no phase is awaiting an agent');
        for (const p of phases) {
          const until = p.deadline ? `, until ${p.deadline}` : '';
          const labels = p.agent_labels.length > 0 ? `  labels ${p.agent_labels.join(',')}` : '';
          const claimed = p.claim ? `  claimed by ${p.claim.agent} until ${p.claim.expires_at}` : '';
          console.log(`${p.run}  phase ${String(p.phase)} (${p.name})  class ${p.resource_class}  generation ${p.generation}  since ${p.since}${until}${labels}${claimed}`);
          console.log(`  baton execute-phase ${p.handoff_path}`);
        }
      }),
    );

  agent
    .command('claim')
    .description(
      `claim the oldest phase awaiting an agent that this agent may take (across runs), for a lease to renew with \`baton agent heartbeat\`; exits ${NOTHING_WAITING_EXIT} when nothing it may take is waiting`,
    )
    .option('--run <run-id>', 'only this run; repeat for more', repeatable, [])
    .option('--plan <name>', 'only runs of this plan')
    .option('--class <name>', 'only phases of this resource class; repeat for more', repeatable, [])
    .option('--label <label>', 'a label this agent has (phases may require some); repeat for more', repeatable, [])
    .option('--agent <name>', 'who claims: results are then taken only from this agent (default: BATON_AGENT_NAME, else user@host, as `baton execute-phase` names the agent in its result)')
    .option('--lease-s <seconds>', `how long the claim lasts without a heartbeat (default ${LEASE_S.default})`, leaseArg)
    .option('--json', 'print the claim as JSON: run, phase, lease_id, expires_at, handoff_path, script_path, package_hash, generation, attempt, ...')
    .action(
      action(async (opts: { run: string[]; plan?: string; class: string[]; label: string[]; agent?: string; leaseS?: number; json?: boolean }) => {
        const agentName = opts.agent ?? defaultAgentName();
        const outcome = await claimNext(await connectClient(), {
          runs: opts.run,
          plan: opts.plan,
          classes: opts.class,
          agent: agentName,
          labels: opts.label,
          ...(opts.leaseS === undefined ? {} : { lease_s: opts.leaseS }),
        });
        for (const r of outcome.refused) console.error(`baton: run ${r.run} phase ${String(r.phase)}: ${r.reason}`);
        const { claim } = outcome;
        if (!claim) {
          const why = outcome.waiting === 0 ? 'no phase is awaiting an agent' : `none of the ${outcome.waiting} phases awaiting an agent may be claimed by ${agentName} now (claimed by others, or needing labels it lacks)`;
          console.error(`baton: ${why}`);
          process.exit(NOTHING_WAITING_EXIT);
        }
        // With a store, the package comes from there into this machine's cache: the path printed is one to read here.
        claim.handoff_path = await localPackageFile(claim.handoff_path, claim.run);
        if (opts.json) return console.log(JSON.stringify(claim, null, 2));
        console.log(`${agentName} claimed run ${claim.run} phase ${String(claim.phase)} (${claim.name}) until ${claim.expires_at}, lease ${claim.lease_id}`);
        console.log(`  baton execute-phase ${claim.handoff_path}`);
        console.log(`  baton agent heartbeat ${claim.run} ${String(claim.phase)} ${claim.lease_id}   (within ${claim.lease_s} s)`);
      }),
    );
  agent
    .command('heartbeat')
    .description("renew a claim's lease (before it expires)")
    .argument('<run>', 'the run (workflow id)')
    .argument('<phase>', 'the phase id')
    .argument('<lease>', 'the lease id `baton agent claim` printed')
    .option('--lease-s <seconds>', 'a new lease length, from now on', leaseArg)
    .option('--json', 'print {phase, lease_id, expires_at}')
    .action(
      action(async (run: string, phase: string, lease: string, opts: { leaseS?: number; json?: boolean }) => {
        const renewed = await heartbeatClaim(await connectClient(), run, phaseArg(phase), lease, opts.leaseS);
        if (opts.json) return console.log(JSON.stringify(renewed));
        console.log(`run ${run} phase ${phase}: lease ${lease} renewed until ${renewed.expires_at}`);
      }),
    );
  agent
    .command('release')
    .description('give a claimed phase back to the inbox')
    .argument('<run>', 'the run (workflow id)')
    .argument('<phase>', 'the phase id')
    .argument('<lease>', 'the lease id `baton agent claim` printed')
    .action(
      action(async (run: string, phase: string, lease: string) => {
        await releaseClaim(await connectClient(), run, phaseArg(phase), lease);
        console.log(`run ${run} phase ${phase}: released; it is back in the inbox`);
      }),
    );
  agent
    .command('submit')
    .description('report a result file to a run (as `baton submit`); with --lease, the claim is checked, and renewed, first')
    .argument('<run>', 'the run (workflow id)')
    .argument('<result>', 'the result file (`baton execute-phase --offline --out <file>`)')
    .option('--lease <lease-id>', 'the claim this result is reported under: refused before sending when the lease has ended')
    .action(
      action(async (run: string, file: string, opts: { lease?: string }) => {
        const lease = opts.lease;
        await submitResultFile(file, run, lease === undefined ? undefined : async (client, runId, result) => {
          try {
            await heartbeatClaim(client, runId, result.phase, lease);
          } catch (err) {
            throw new Error(`run ${runId} phase ${String(result.phase)}: the claim is not held (${(err as Error).message}); ${file} (from agent ${JSON.stringify(resultAgent(result))}) was not sent`);
          }
        });
      }),
    );
}
