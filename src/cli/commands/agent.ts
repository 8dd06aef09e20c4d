/**
 * `baton agent`: the agent inbox. `baton agent list` shows every phase awaiting an external agent,
 * across runs (filterable by run, plan and resource class), with the package to run.
 */
import type { Command } from 'commander';
import { listAwaitingPhases } from '../../client/agent-inbox.js';
import { connectClient } from '../../client/connection.js';
import { action } from '../errors.js';

const repeatable = (v: string, acc: string[]): string[] => [...acc, v];

export function registerAgent(program: Command): void {
  const agent = program.command('agent').description('the agent inbox: phases awaiting an external agent, across runs');
  agent
    .command('list')
    .description('every phase awaiting an agent in the live runs, oldest first, with the package to run (`baton execute-phase <package>`)')
    .option('--run <run-id>', 'only this run; repeat for more', repeatable, [])
    .option('--plan <name>', 'only runs of this plan')
    .option('--class <name>', 'only phases of this resource class; repeat for more', repeatable, [])
    .option('--json', 'a JSON array, one object a phase (run, plan, phase, name, resource_class, generation, attempt, since, deadline, package_hash, handoff_path, script_path)')
    .action(
      action(async (opts: { run: string[]; plan?: string; class: string[]; json?: boolean }) => {
        const phases = await listAwaitingPhases(await connectClient(), { runs: opts.run, plan: opts.plan, classes: opts.class });
        if (opts.json) return console.log(JSON.stringify(phases, null, 2));
        if (phases.length === 0) return console.log('no phase is awaiting an agent');
        for (const p of phases) {
          const until = p.deadline ? `, until ${p.deadline}` : '';
          console.log(`${p.run}  phase ${String(p.phase)} (${p.name})  class ${p.resource_class}  generation ${p.generation}  since ${p.since}${until}`);
          console.log(`  baton execute-phase ${p.handoff_path}`);
        }
      }),
    );
}
