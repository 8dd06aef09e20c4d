/**
 * The agent inbox, read side: every phase awaiting an external agent, across runs. Temporal's
 * visibility finds the live runs with one (the BatonAwaitingAgent search attribute, which lists
 * at most 20 phase ids a run); each run's `phases` query then gives all of its awaiting phases,
 * as they stand now. Visibility lags a run by up to a second or so: a phase handed out just now may
 * be missing from one listing, and one taken just now is left out because the query says so.
 */
import type { Client } from '@temporalio/client';
import type { Claim } from '../core/api/status.js';
import type { PhaseId } from '../core/plan/schema.js';
import { Orchestrator } from './orchestrator.js';

export interface AwaitingPhase {
  run: string;
  plan: string | null;
  phase: PhaseId;
  name: string;
  resource_class: string;
  generation: number;
  attempt: number;
  since: string;
  deadline: string | null;
  package_hash: string;
  handoff_path: string;
  script_path: string;
  /** The labels an agent needs to claim it (none: any agent may). */
  agent_labels: string[];
  /** Set while an agent holds a claim on it (`baton agent claim`): who, since when, until when. */
  claim: Claim | null;
}

export interface InboxFilter {
  /** Only these runs (workflow ids). */
  runs?: readonly string[];
  /** Only runs of this plan. */
  plan?: string;
  /** Only phases of these resource classes. */
  classes?: readonly string[];
}

/** Whether an agent with these labels has every label the phase requires. */
export function labelsAllow(phase: Pick<AwaitingPhase, 'agent_labels'>, labels: readonly string[]): boolean {
  return phase.agent_labels.every((l) => labels.includes(l));
}

const quoted = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The visibility query for live runs with a phase awaiting an agent, narrowed by the filter. */
export function inboxQuery(filter: InboxFilter = {}): string {
  const parts = ["ExecutionStatus = 'Running'", 'BatonAwaitingAgent IS NOT NULL'];
  if (filter.plan !== undefined) parts.push(`BatonPlan = ${quoted(filter.plan)}`);
  if (filter.runs && filter.runs.length > 0) parts.push(`WorkflowId IN (${filter.runs.map(quoted).join(', ')})`);
  return parts.join(' AND ');
}

/** Every phase awaiting an agent in the live runs the filter selects, oldest first. */
export async function listAwaitingPhases(client: Client, filter: InboxFilter = {}): Promise<AwaitingPhase[]> {
  const query = inboxQuery(filter);
  const runs: Array<{ id: string; plan: string | null }> = [];
  try {
    for await (const wf of client.workflow.list({ query })) {
      const plan = wf.searchAttributes?.BatonPlan?.[0];
      runs.push({ id: wf.workflowId, plan: typeof plan === 'string' ? plan : null });
    }
  } catch (err) {
    throw new Error(
      `could not list the runs awaiting an agent (${query}): ${(err as Error).message}; the namespace needs Baton's search attributes (BatonPlan, BatonAwaitingAgent: \`baton doctor\` says which are missing)`,
      { cause: err },
    );
  }
  const orchestrator = new Orchestrator(client);
  const classes = filter.classes && filter.classes.length > 0 ? new Set(filter.classes) : undefined;
  const found: AwaitingPhase[] = [];
  for (const { id, plan } of runs) {
    try {
      for await (const p of orchestrator.run(id).allPhases({ state: 'awaiting_agent' })) {
        if (!p.awaiting || (classes && !classes.has(p.resource_class))) continue;
        found.push({
          run: id,
          plan,
          phase: p.id,
          name: p.name,
          resource_class: p.resource_class,
          generation: p.generation,
          attempt: p.awaiting.attempt ?? 1,
          since: p.awaiting.since,
          deadline: p.awaiting.deadline,
          package_hash: p.awaiting.package_hash,
          handoff_path: p.awaiting.handoff_path,
          script_path: p.awaiting.script_path,
          agent_labels: p.agent_labels ?? [],
          claim: p.awaiting.claim ?? null,
        });
      }
    } catch {
      // The run ended (or was reset) between the listing and its query: nothing of it awaits now.
    }
  }
  return found.sort((a, b) => a.since.localeCompare(b.since) || a.run.localeCompare(b.run));
}
