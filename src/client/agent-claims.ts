/**
 * The agent inbox, write side: claiming a phase awaiting an agent (the claimPhase update), renewing
 * the lease (heartbeatClaim) and giving it back (releaseClaim). `claimNext` takes the oldest phase
 * in the inbox the agent may have, trying the next one when a claim is refused (another agent took
 * it first, or a label is missing).
 */
import os from 'node:os';
import type { Client } from '@temporalio/client';
import { claimPhaseUpdate, heartbeatClaimUpdate, releaseClaimUpdate } from '../core/api/definitions.js';
import type { ClaimPhaseRequest, ClaimPhaseResponse, HeartbeatClaimResponse, ReleaseClaimResponse } from '../core/api/messages.js';
import type { PhaseId } from '../core/plan/schema.js';
import { labelsAllow, listAwaitingPhases, type AwaitingPhase, type InboxFilter } from './agent-inbox.js';
import { Orchestrator, updateOrExplain } from './orchestrator.js';

/** How claims name an agent that gives no name: BATON_AGENT_NAME, else user@host (what a result's provenance then says). */
export function defaultAgentName(): string {
  return process.env.BATON_AGENT_NAME || `${os.userInfo().username}@${os.hostname()}`;
}

export async function claimPhase(client: Client, run: string, request: ClaimPhaseRequest): Promise<ClaimPhaseResponse> {
  const handle = new Orchestrator(client).run(run).workflow;
  return updateOrExplain(handle, () => handle.executeUpdate(claimPhaseUpdate, { args: [request] }));
}

export async function heartbeatClaim(client: Client, run: string, phase: PhaseId, leaseId: string, leaseS?: number): Promise<HeartbeatClaimResponse> {
  const handle = new Orchestrator(client).run(run).workflow;
  const request = { phase, lease_id: leaseId, ...(leaseS === undefined ? {} : { lease_s: leaseS }) };
  return updateOrExplain(handle, () => handle.executeUpdate(heartbeatClaimUpdate, { args: [request] }));
}

export async function releaseClaim(client: Client, run: string, phase: PhaseId, leaseId: string): Promise<ReleaseClaimResponse> {
  const handle = new Orchestrator(client).run(run).workflow;
  return updateOrExplain(handle, () => handle.executeUpdate(releaseClaimUpdate, { args: [{ phase, lease_id: leaseId }] }));
}

export interface ClaimNextOptions extends InboxFilter {
  agent: string;
  labels?: readonly string[];
  lease_s?: number;
}

export interface ClaimNextOutcome {
  /** The claim, when one was made. */
  claim?: ClaimPhaseResponse & { plan: string | null; name: string; resource_class: string };
  /** Phases tried and refused, with why (another agent took it first, a label missing). */
  refused: Array<{ run: string; phase: PhaseId; reason: string }>;
  /** Phases in the inbox the filter selects, claimed or not. */
  waiting: number;
}

/** Whether an agent with these labels may claim a phase, as the run will judge it. */
export function mayClaim(phase: AwaitingPhase, labels: readonly string[], now = Date.now()): boolean {
  if (phase.claim && Date.parse(phase.claim.expires_at) > now) return false;
  return labelsAllow(phase, labels);
}

/** Claims the oldest phase in the inbox this agent may take; none when nothing it may take is waiting. */
export async function claimNext(client: Client, opts: ClaimNextOptions): Promise<ClaimNextOutcome> {
  const labels = [...(opts.labels ?? [])];
  const listed = await listAwaitingPhases(client, opts);
  const refused: ClaimNextOutcome['refused'] = [];
  for (const p of listed.filter((x) => mayClaim(x, labels))) {
    const request: ClaimPhaseRequest = {
      phase: p.phase,
      agent: opts.agent,
      ...(labels.length > 0 ? { labels } : {}),
      ...(opts.lease_s === undefined ? {} : { lease_s: opts.lease_s }),
    };
    try {
      const claim = await claimPhase(client, p.run, request);
      return { claim: { ...claim, plan: p.plan, name: p.name, resource_class: p.resource_class }, refused, waiting: listed.length };
    } catch (err) {
      // Another agent got there first, or the phase moved on: try the next one.
      refused.push({ run: p.run, phase: p.phase, reason: (err as Error).message });
    }
  }
  return { refused, waiting: listed.length };
}
