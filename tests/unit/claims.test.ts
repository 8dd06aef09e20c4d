import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/core/api/messages.js';
import { ContinuedSchema } from '../../src/core/api/run-input.js';
import { compactPlan } from '../../src/core/plan/compact.js';
import { carry, restore } from '../../src/core/workflows/carry.js';
import { phaseCondition } from '../../src/core/api/phase-remarks.js';
import type { AgentResult } from '../../src/core/handoff/result.js';
import { checkRun } from '../../src/core/plan/validate.js';
import { agentResultProblem } from '../../src/core/workflows/agent-results.js';
import { activeClaim, claimProblem, leaseProblem, resultClaimProblem, type EndedLeases } from '../../src/core/workflows/claims.js';
import { RunBook } from '../../src/core/workflows/run-book.js';
import { stateLine } from '../../src/web/node-text.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function book() {
  const { plan, config } = checkRun(
    {
      name: 'claims',
      phases: [
        { id: 0, command: ['a'] },
        { id: 1, command: ['b'], use_separate_agent: true },
        { id: 2, command: ['c'], use_separate_agent: true, agent: { labels: ['gpu', 'python'] } },
      ],
    },
    {},
  );
  const b = new RunBook('run-1', plan, config, new Date(T0));
  for (const key of ['1', '2']) {
    b.phase(key).awaitAgent({ since: iso(T0), deadline: null, package_hash: `sha256:${key.repeat(64)}`, attempt: 1, handoff_path: `/h/phase_${key}.json`, script_path: `/h/phase_${key}.sh` });
  }
  return b;
}

function claimed(b: RunBook, key: string, agent: string, leaseId = 'lease-a', until = T0 + 60_000) {
  b.record(key).awaiting!.claim = { lease_id: leaseId, agent, since: iso(T0), expires_at: iso(until), lease_s: 60 };
}

const none: EndedLeases = { get: () => undefined };

function result(b: RunBook, key: string, agent: string | null): AgentResult {
  const rec = b.record(key);
  return {
    schema_version: 1,
    execution_id: 'run-1',
    phase: Number(key),
    generation: rec.generation,
    attempt: 1,
    package_hash: rec.awaiting!.package_hash,
    outcome: 'completed',
    output: { context: {}, artifacts: {} },
    error: null,
    provenance: { host: 'h', user: 'u', agent, mode: 'offline', started_at: iso(T0), finished_at: iso(T0) },
    content_hash: null,
    signature: null,
  } as AgentResult;
}

describe('claims: what claimPhase refuses, and how it says so', () => {
  it('a phase that is not awaiting an agent, and one the run does not have', () => {
    const b = book();
    expect(claimProblem(b, { phase: 0, agent: 'a' }, T0)).toBe('claimPhase: phase 0 is pending, not awaiting an agent (it runs on a worker, not an agent): nothing to claim');
    expect(claimProblem(b, { phase: 9, agent: 'a' }, T0)).toBe('claimPhase: this run has no phase 9 (phases: 0, 1, 2)');
    expect(claimProblem(b, { phase: 1, agent: 'a' }, T0)).toBeUndefined();
  });

  it('a phase another agent holds: who, since when, until when', () => {
    const b = book();
    claimed(b, '1', 'alice');
    expect(claimProblem(b, { phase: 1, agent: 'bob' }, T0 + 1000)).toBe(
      'claimPhase: phase 1 is already claimed by agent "alice" (since 2026-12-01T10:00:00.000Z) until 2026-12-01T10:01:00.000Z: take another phase, or wait until its lease ends or is released',
    );
    expect(claimProblem(b, { phase: 1, agent: 'alice' }, T0 + 1000)).toContain('already claimed by you "alice"');
    expect(claimProblem(b, { phase: 1, agent: 'alice' }, T0 + 1000)).toContain('renew it with heartbeatClaim');
    // Once the lease has run out, the phase is free again, even before the timer has fired.
    expect(claimProblem(b, { phase: 1, agent: 'bob' }, T0 + 60_000)).toBeUndefined();
    expect(activeClaim(b.record('1'), T0 + 60_000)).toBeUndefined();
  });

  it('labels the phase needs and the agent lacks', () => {
    const b = book();
    expect(claimProblem(b, { phase: 2, agent: 'bob', labels: ['python'] }, T0)).toBe(
      'claimPhase: phase 2 needs an agent with the labels "gpu", "python"; agent "bob" has "python" (missing "gpu"): claim with each of them (`baton agent claim --label ...`), or take another phase',
    );
    expect(claimProblem(b, { phase: 2, agent: 'bob' }, T0)).toContain('agent "bob" has no labels (missing "gpu", "python")');
    expect(claimProblem(b, { phase: 2, agent: 'bob', labels: ['python', 'gpu', 'x'] }, T0)).toBeUndefined();
  });

  it('a bad request: the message, the problem, the shape', () => {
    const parsed = parseMessage('claimPhase', { phase: 1, agent: 'a', lease_s: 0, lables: [] });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error).toMatch(/^claimPhase: /);
      expect(parsed.error).toContain('lables');
      expect(parsed.error).toContain('lease_s');
      expect(parsed.error).toContain('expected {"phase": <id>, "agent": "...", "labels"?: ["..."], "lease_s"?: 1-86400}');
    }
    expect(parseMessage('heartbeatClaim', { phase: 1 }).ok).toBe(false);
    expect(parseMessage('releaseClaim', { phase: 1, lease_id: 'x' }).ok).toBe(true);
  });
});

describe('claims: what heartbeatClaim and releaseClaim refuse', () => {
  it('an unknown lease, saying who holds the phase now', () => {
    const b = book();
    expect(leaseProblem(b, { phase: 1, lease_id: 'nope' }, T0, none, 'heartbeatClaim')).toBe(
      'heartbeatClaim: phase 1 has no lease "nope"; phase 1 is not claimed now: claim it again (claimPhase)',
    );
    claimed(b, '1', 'alice');
    expect(leaseProblem(b, { phase: 1, lease_id: 'nope' }, T0, none, 'releaseClaim')).toBe(
      'releaseClaim: phase 1 has no lease "nope"; phase 1 is now claimed by agent "alice" until 2026-12-01T10:01:00.000Z',
    );
    expect(leaseProblem(b, { phase: 1, lease_id: 'lease-a' }, T0 + 59_000, none, 'heartbeatClaim')).toBeUndefined();
  });

  it('an expired lease: when it expired, and what to do', () => {
    const b = book();
    claimed(b, '1', 'alice');
    expect(leaseProblem(b, { phase: 1, lease_id: 'lease-a' }, T0 + 60_000, none, 'heartbeatClaim')).toBe(
      'heartbeatClaim: lease "lease-a" on phase 1 (agent "alice") expired at 2026-12-01T10:01:00.000Z: the phase is back in the inbox; claim it again (claimPhase), and heartbeat more often than its lease_s (60 s)',
    );
    // After the timer has ended it, the run still knows the lease, and who holds the phase now.
    delete b.record('1').awaiting!.claim;
    claimed(b, '1', 'bob', 'lease-b', T0 + 120_000);
    const ended: EndedLeases = { get: (id) => (id === 'lease-a' ? { agent: 'alice', phase: '1', why: 'expired at 2026-12-01T10:01:00.000Z' } : undefined) };
    expect(leaseProblem(b, { phase: 1, lease_id: 'lease-a' }, T0 + 61_000, ended, 'heartbeatClaim')).toBe(
      'heartbeatClaim: lease "lease-a" on phase 1 (agent "alice") expired at 2026-12-01T10:01:00.000Z; phase 1 is now claimed by agent "bob" until 2026-12-01T10:02:00.000Z',
    );
  });

  it('a phase no longer awaiting an agent', () => {
    const b = book();
    expect(leaseProblem(b, { phase: 0, lease_id: 'x' }, T0, none, 'heartbeatClaim')).toBe(
      'heartbeatClaim: phase 0 is pending, not awaiting an agent (it runs on a worker, not an agent): nothing to renew a claim on',
    );
  });
});

describe('claims: results while a phase is claimed', () => {
  it("takes only the holder's result, by provenance.agent or user@host", () => {
    const b = book();
    claimed(b, '1', 'alice');
    expect(resultClaimProblem(b.record('1'), '1', result(b, '1', 'alice'), T0)).toBeUndefined();
    expect(resultClaimProblem(b.record('1'), '1', result(b, '1', 'bob'), T0)).toBe(
      'phase 1 is claimed by agent "alice" until 2026-12-01T10:01:00.000Z: while the lease lasts only its holder\'s result is taken, and this one is from "bob" (its provenance.agent, set by BATON_AGENT_NAME, or user@host when none); let the holder report, release the claim, or wait for its lease to end',
    );
    claimed(b, '1', 'u@h');
    expect(resultClaimProblem(b.record('1'), '1', result(b, '1', null), T0)).toBeUndefined();
    // Unclaimed, or once the lease has run out: anyone's result, as before claims.
    expect(resultClaimProblem(b.record('1'), '1', result(b, '1', 'bob'), T0 + 60_000)).toBeUndefined();
    expect(resultClaimProblem(b.record('2'), '2', result(b, '2', 'bob'), T0)).toBeUndefined();
  });

  it("completePhase's check says so too", () => {
    const b = book();
    claimed(b, '1', 'alice', 'lease-a', Date.now() + 60_000);
    expect(agentResultProblem(b, result(b, '1', 'bob'))).toContain('phase 1 is claimed by agent "alice"');
    expect(agentResultProblem(b, result(b, '1', 'alice'))).toBeUndefined();
  });
});

describe('plans: "agent": {"labels": [...]}', () => {
  it('is optional, and strict', () => {
    const plan = (phase: Record<string, unknown>) => checkRun({ name: 'p', phases: [{ id: 1, command: ['x'], use_separate_agent: true, ...phase }] }).plan;
    expect(plan({ agent: { labels: ['gpu'] } }).phases[0]!.agent).toEqual({ labels: ['gpu'] });
    expect(plan({}).phases[0]!.agent).toBeUndefined();
    expect(() => plan({ agent: { label: ['gpu'] } })).toThrow('phase 1: unknown key "label" in "agent"; did you mean "labels"?');
    expect(() => plan({ agent: { labels: 'gpu' } })).toThrow('phase 1: "agent.labels" must be a list of labels (strings), got "gpu"');
  });

  it('shows in the phase status as agent_labels', () => {
    const b = book();
    expect(b.phase('2').status().agent_labels).toEqual(['gpu', 'python']);
    expect(b.phase('1').status().agent_labels).toBeUndefined();
  });
});

describe('claims: where a claim shows', () => {
  it('in the state column (baton status, the Web UI details) and on the graph node of baton ui', () => {
    const b = book();
    claimed(b, '1', 'alice');
    const p = b.phase('1').status();
    expect(phaseCondition(p)).toBe('claimed by alice until 2026-12-01T10:01:00.000Z');
    expect(stateLine(p, undefined)).toBe('awaiting agent · claimed by alice');
    expect(phaseCondition(b.phase('2').status())).toBe('');
  });
});

describe('claims: across a continue-as-new', () => {
  it('a claim is carried into the next run with its phase, and the next run still refuses a rival', () => {
    const b = book();
    claimed(b, '1', 'alice', 'lease-a', T0 + 600_000);
    const { continued } = carry(b);
    const parsed = ContinuedSchema.parse(continued);
    expect(parsed.phases['1']!.awaiting!.claim).toEqual({ lease_id: 'lease-a', agent: 'alice', since: iso(T0), expires_at: iso(T0 + 600_000), lease_s: 60 });
    const { plan, config } = checkRun(compactPlan(b.plan), {});
    const next = new RunBook('run-1', plan, config, new Date(T0));
    restore(next, parsed);
    expect(claimProblem(next, { phase: 1, agent: 'bob' }, T0 + 1000)).toContain('already claimed by agent "alice"');
    expect(next.phase('2').status().agent_labels).toEqual(['gpu', 'python']);
  });
});
