/**
 * The agent inbox's claims: an agent claims a phase awaiting one (claimPhase) for a lease it renews
 * (heartbeatClaim) or gives back (releaseClaim). A claim is exclusive: while its lease lasts no other
 * agent can claim the phase, and the run takes a result for it only from the holder (the result's
 * provenance.agent, or user@host when it names none). A lease that runs out returns the phase to
 * the inbox, on a workflow timer, so the status says so when it does.
 *
 * The claim lives in the phase's `awaiting` record, so it ends with the wait (a result, a skip, a
 * timeout, a retry) and carries over a continue-as-new. Runs that never receive a claim make no
 * command they did not make before: no patch is needed (validators do not run on replay).
 */
import { condition, isCancellation, setHandler, uuid4 } from '@temporalio/workflow';
import { claimPhaseUpdate, heartbeatClaimUpdate, releaseClaimUpdate } from '../api/definitions.js';
import {
  LEASE_S,
  type ClaimPhaseRequest,
  type ClaimPhaseResponse,
  type HeartbeatClaimRequest,
  type HeartbeatClaimResponse,
  type ReleaseClaimRequest,
  type ReleaseClaimResponse,
} from '../api/messages.js';
import type { Claim } from '../api/status.js';
import type { PhaseRecord } from '../api/run-input.js';
import type { AgentResult } from '../handoff/result.js';
import { phaseKey } from '../plan/schema.js';
import type { RunBook } from './run-book.js';
import type { Run } from './run.js';
import { refuse, refuseUnless } from './update-validation.js';

const quote = (s: string): string => JSON.stringify(s);
const list = (xs: readonly string[]): string => xs.map(quote).join(', ');

/** The claim on a phase whose lease has not run out at `now`, or undefined. */
export function activeClaim(rec: PhaseRecord, now: number): Claim | undefined {
  const claim = rec.state === 'awaiting_agent' ? rec.awaiting?.claim : undefined;
  return claim && Date.parse(claim.expires_at) > now ? claim : undefined;
}

/** Leases that ran out (or were released) in this run, kept to tell an agent so rather than "unknown". */
export interface EndedLeases {
  get(leaseId: string): { agent: string; phase: string; why: string } | undefined;
}

/** Why a phase cannot be claimed as the run stands, or undefined. */
export function claimProblem(book: RunBook, request: ClaimPhaseRequest, now: number): string | undefined {
  const key = phaseKey(request.phase);
  const rec = awaitingProblem(book, key, 'claim');
  if (typeof rec === 'string') return `claimPhase: ${rec}`;
  const held = activeClaim(rec, now);
  if (held) {
    const same = held.agent === request.agent;
    return `claimPhase: phase ${key} is already claimed by ${same ? 'you' : 'agent'} ${quote(held.agent)} (since ${held.since}) until ${held.expires_at}${
      same ? `, lease ${quote(held.lease_id)}: renew it with heartbeatClaim rather than claim again` : ': take another phase, or wait until its lease ends or is released'
    }`;
  }
  const needed = book.phasesByKey.get(key)?.agent?.labels ?? [];
  const has = new Set(request.labels ?? []);
  const missing = needed.filter((l) => !has.has(l));
  if (missing.length > 0) {
    const got = request.labels && request.labels.length > 0 ? `has ${list(request.labels)}` : 'has no labels';
    return `claimPhase: phase ${key} needs an agent with the labels ${list(needed)}; agent ${quote(request.agent)} ${got} (missing ${list(missing)}): claim with each of them (\`baton agent claim --label ...\`), or take another phase`;
  }
  return undefined;
}

/** Why a lease cannot be renewed or released (the phase, the lease, its expiry), or undefined. */
export function leaseProblem(
  book: RunBook,
  request: HeartbeatClaimRequest | ReleaseClaimRequest,
  now: number,
  ended: EndedLeases,
  what: 'heartbeatClaim' | 'releaseClaim',
): string | undefined {
  const key = phaseKey(request.phase);
  const endedLease = ended.get(request.lease_id);
  const rec = awaitingProblem(book, key, what === 'heartbeatClaim' ? 'renew a claim on' : 'release');
  if (typeof rec === 'string') return `${what}: ${rec}${endedLease ? ` (lease ${quote(request.lease_id)} ${endedLease.why})` : ''}`;
  const claim = rec.awaiting?.claim;
  if (claim?.lease_id === request.lease_id) {
    if (Date.parse(claim.expires_at) > now) return undefined;
    return `${what}: lease ${quote(request.lease_id)} on phase ${key} (agent ${quote(claim.agent)}) expired at ${claim.expires_at}: the phase is back in the inbox; claim it again (claimPhase), and heartbeat more often than its lease_s (${claim.lease_s} s)`;
  }
  const holder = activeClaim(rec, now);
  const now_ = holder ? `; phase ${key} is now claimed by agent ${quote(holder.agent)} until ${holder.expires_at}` : `; phase ${key} is not claimed now: claim it again (claimPhase)`;
  if (endedLease && endedLease.phase === key) return `${what}: lease ${quote(request.lease_id)} on phase ${key} (agent ${quote(endedLease.agent)}) ${endedLease.why}${now_}`;
  return `${what}: phase ${key} has no lease ${quote(request.lease_id)}${now_}`;
}

/** The phase's record when it awaits an agent, else why not (an unknown phase, one in another state). */
function awaitingProblem(book: RunBook, key: string, verb: string): PhaseRecord | string {
  if (!book.has(key)) return `this run has no phase ${key} (phases: ${book.keys().slice(0, 20).join(', ')}${book.size > 20 ? ', …' : ''})`;
  const rec = book.record(key);
  if (rec.state !== 'awaiting_agent' || !rec.awaiting) {
    const agentPhase = rec.separate_agent ? '' : ' (it runs on a worker, not an agent)';
    return `phase ${key} is ${rec.state}, not awaiting an agent${agentPhase}: nothing to ${verb}`;
  }
  return rec;
}

/**
 * Why the run cannot take this result while the phase is claimed, or undefined: only the claim's
 * holder reports while the lease lasts. The holder is named by the result's provenance.agent, or
 * by user@host when that is null (what `baton agent claim` names an agent without BATON_AGENT_NAME).
 */
export function resultClaimProblem(rec: PhaseRecord, key: string, result: AgentResult, now: number): string | undefined {
  const claim = activeClaim(rec, now);
  if (!claim) return undefined;
  const from = resultAgent(result);
  if (from === claim.agent) return undefined;
  return `phase ${key} is claimed by agent ${quote(claim.agent)} until ${claim.expires_at}: while the lease lasts only its holder's result is taken, and this one is from ${quote(from)} (its provenance.agent, set by BATON_AGENT_NAME, or user@host when none); let the holder report, release the claim, or wait for its lease to end`;
}

/** Who a result says made it, as claims name agents. */
export function resultAgent(result: AgentResult): string {
  const p = result.provenance;
  return p.agent ?? `${p.user}@${p.host}`;
}

/** The run's claims: the three updates, and the timers that end leases. */
export class Claims implements EndedLeases {
  private readonly ended = new Map<string, { agent: string; phase: string; why: string }>();

  constructor(private readonly run: Run) {}

  get(leaseId: string): { agent: string; phase: string; why: string } | undefined {
    return this.ended.get(leaseId);
  }

  claim(request: ClaimPhaseRequest): ClaimPhaseResponse {
    const { book } = this.run;
    const now = Date.now();
    // Checked again: an update accepted in the same workflow task as another claim must not take it too.
    refuse(claimProblem(book, request, now));
    const key = phaseKey(request.phase);
    const rec = book.record(key);
    const awaiting = rec.awaiting!;
    const leaseS = request.lease_s ?? LEASE_S.default;
    const claim: Claim = {
      lease_id: uuid4(),
      agent: request.agent,
      ...(request.labels && request.labels.length > 0 ? { labels: request.labels } : {}),
      since: new Date(now).toISOString(),
      expires_at: new Date(now + leaseS * 1000).toISOString(),
      lease_s: leaseS,
    };
    awaiting.claim = claim;
    this.run.changed();
    this.watch(key, claim.lease_id);
    return {
      lease_id: claim.lease_id,
      run: book.executionId,
      phase: book.phasesByKey.get(key)?.id ?? request.phase,
      agent: claim.agent,
      generation: rec.generation,
      attempt: awaiting.attempt ?? 1,
      since: claim.since,
      expires_at: claim.expires_at,
      lease_s: leaseS,
      package_hash: awaiting.package_hash,
      handoff_path: awaiting.handoff_path,
      script_path: awaiting.script_path,
    };
  }

  heartbeat(request: HeartbeatClaimRequest): HeartbeatClaimResponse {
    const now = Date.now();
    refuse(leaseProblem(this.run.book, request, now, this, 'heartbeatClaim'));
    const key = phaseKey(request.phase);
    const claim = this.run.book.record(key).awaiting!.claim!;
    const leaseS = request.lease_s ?? claim.lease_s;
    // A new object, so the lease's timer sees the change and waits again.
    const renewed: Claim = { ...claim, lease_s: leaseS, heartbeat_at: new Date(now).toISOString(), expires_at: new Date(now + leaseS * 1000).toISOString() };
    this.run.book.record(key).awaiting!.claim = renewed;
    this.run.changed();
    return { phase: request.phase, lease_id: claim.lease_id, expires_at: renewed.expires_at };
  }

  release(request: ReleaseClaimRequest): ReleaseClaimResponse {
    const now = Date.now();
    refuse(leaseProblem(this.run.book, request, now, this, 'releaseClaim'));
    const key = phaseKey(request.phase);
    const awaiting = this.run.book.record(key).awaiting!;
    const claim = awaiting.claim!;
    delete awaiting.claim;
    this.ended.set(claim.lease_id, { agent: claim.agent, phase: key, why: `was released at ${new Date(now).toISOString()}` });
    this.run.notice(`phase ${key}: agent ${quote(claim.agent)} released its claim; the phase is back in the inbox`);
    return { phase: request.phase, released: true };
  }

  /** A run that continued as new keeps its predecessor's claims, and their leases' timers. */
  resume(): void {
    for (const key of this.run.book.keysIn('awaiting_agent')) {
      const claim = this.run.book.record(key).awaiting?.claim;
      if (claim) this.watch(key, claim.lease_id);
    }
  }

  /**
   * Ends the lease when it runs out: a timer (a condition with a timeout, on workflow time) that
   * waits again whenever a heartbeat renews it, and stops once the claim ends otherwise.
   */
  private watch(key: string, leaseId: string): void {
    const rec = this.run.book.record(key);
    const current = (): Claim | undefined => {
      const claim = rec.state === 'awaiting_agent' ? rec.awaiting?.claim : undefined;
      return claim?.lease_id === leaseId ? claim : undefined;
    };
    const loop = async (): Promise<void> => {
      for (;;) {
        const claim = current();
        if (!claim) return;
        const left = Date.parse(claim.expires_at) - Date.now();
        if (left <= 0) {
          delete rec.awaiting!.claim;
          this.ended.set(leaseId, { agent: claim.agent, phase: key, why: `expired at ${claim.expires_at}` });
          this.run.notice(`phase ${key}: agent ${quote(claim.agent)}'s lease expired at ${claim.expires_at} without a heartbeat; the phase is back in the inbox`);
          return;
        }
        await condition(() => current() !== claim, left);
      }
    };
    // Aborted: the run winds down, and the claim with it.
    loop().catch((err: unknown) => {
      if (!isCancellation(err)) throw err;
    });
  }
}

export function registerClaimHandlers(run: Run): Claims {
  const claims = new Claims(run);
  setHandler(claimPhaseUpdate, (request) => claims.claim(request), {
    description:
      'Claim a phase awaiting an agent, for a lease: {"phase": <id>, "agent": "<name>", "labels"?: ["gpu"], "lease_s"?: 300}. Answers the lease id, its expiry and the package; refused when another agent holds it or the agent lacks a label the phase needs.',
    validator: (raw) => refuseUnless('claimPhase', raw, (r) => claimProblem(run.book, r, Date.now())),
  });
  setHandler(heartbeatClaimUpdate, (request) => claims.heartbeat(request), {
    description: 'Renew a claim\'s lease: {"phase": <id>, "lease_id": "...", "lease_s"?: 300}. Answers the new expiry.',
    validator: (raw) => refuseUnless('heartbeatClaim', raw, (r) => leaseProblem(run.book, r, Date.now(), claims, 'heartbeatClaim')),
  });
  setHandler(releaseClaimUpdate, (request) => claims.release(request), {
    description: 'Give a claimed phase back to the inbox: {"phase": <id>, "lease_id": "..."}.',
    validator: (raw) => refuseUnless('releaseClaim', raw, (r) => leaseProblem(run.book, r, Date.now(), claims, 'releaseClaim')),
  });
  return claims;
}
