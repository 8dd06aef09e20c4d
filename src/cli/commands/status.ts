/**
 * `baton status <run-id>` and `baton watch <run-id>`.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { connectClient, connectSettings } from '../../client/connection.js';
import { Orchestrator, type RunHandle } from '../../client/orchestrator.js';
import { readStatusFile } from '../../client/read-status.js';
import { runLinkLines } from '../../client/ui-links.js';
import { PHASE_STATES } from '../../core/plan/schema.js';
import type { PhaseStatus, RunStatus } from '../../core/api/status.js';
import { action, UsageError } from '../errors.js';
import { renderStatusTable } from '../format.js';
import { followRun } from '../progress.js';

type State = (typeof PHASE_STATES)[number];

interface StatusOptions {
  json?: boolean;
  state?: string;
  all?: boolean;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("show a run's state and every phase's (a large plan's status shows counts and the phases that need eyes: --state or --all lists the rest)")
    .argument('<run-id>')
    .option('--json', 'print the status as JSON (the `status` query)')
    .option('--state <states>', `list every phase in these states (comma-separated: ${PHASE_STATES.join(', ')}), page by page`)
    .option('--all', 'list every phase, page by page')
    .action(
      action(async (runId: string, opts: StatusOptions) => {
        const settings = connectSettings();
        const run = new Orchestrator(await connectClient(settings)).run(runId);
        let status = await run.status();
        if (opts.state || opts.all) status = await withPhases(run, status, opts.all ? undefined : states(opts.state!));
        console.log(opts.json ? JSON.stringify(status, null, 2) : [renderStatusTable(status), ...runLinkLines(settings, runId)].join('\n'));
      }),
    );

  program
    .command('watch')
    .description('follow a run live until it ends or holds')
    .argument('<run-id>')
    .action(
      action(async (runId: string) => {
        const status = await followRun(new Orchestrator(await connectClient()).run(runId));
        if (!process.stdout.isTTY) console.log(renderStatusTable(status));
      }),
    );
}

function states(text: string): State[] {
  const asked = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = asked.filter((s) => !(PHASE_STATES as readonly string[]).includes(s));
  if (unknown.length > 0 || asked.length === 0) throw new UsageError(`--state takes phase states, comma-separated (${PHASE_STATES.join(', ')}); got ${JSON.stringify(text)}`);
  return asked as State[];
}

/**
 * The status with `phases` holding every phase in the states asked for (all, without states): from
 * the run's `phases` query while it runs, from its final execution_context.json once it has ended.
 */
async function withPhases(run: RunHandle, status: RunStatus, wanted: State[] | undefined): Promise<RunStatus> {
  const phases: Record<string, PhaseStatus> = {};
  if (status.finished_at === null) {
    for await (const phase of run.allPhases(wanted ? { state: wanted } : {})) phases[String(phase.id)] = phase;
  } else {
    const file = path.join(path.resolve(status.workdir), 'execution_context.json');
    let final: RunStatus;
    try {
      final = await readStatusFile(file);
    } catch (err) {
      throw new Error(`run ${status.execution_id} has ended; its phases are in ${file}, which cannot be read here (${(err as Error).message})`);
    }
    // The workdir is the plan's, shared by its runs: the file may be a later run's.
    if (final.execution_id !== status.execution_id) throw new Error(`run ${status.execution_id} has ended, and ${file} is now run ${final.execution_id}'s: its phases are no longer there`);
    for (const [key, phase] of Object.entries(final.phases)) if (!wanted || wanted.includes(phase.state)) phases[key] = phase;
  }
  const { omitted_phases: _omitted, ...rest } = status;
  return { ...rest, notices: rest.notices.filter((n) => !/ are left out of this (status|memo) for size/.test(n)), phases };
}
