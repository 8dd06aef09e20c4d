/**
 * The agent inbox, with leases: `baton agent claim` takes a phase awaiting an agent for a lease that
 * `heartbeat` renews and `release` gives back; claims are exclusive (two agents racing for a phase:
 * one wins, the other is told), a lease that runs out returns the phase to the inbox, phases may
 * require labels, and while a phase is claimed only the holder's result is taken.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClaimPhaseResponse } from '../../src/core/api/messages.js';
import type { RunStatus } from '../../src/core/api/status.js';
import { claimPhase } from '../../src/client/agent-claims.js';
import type { RunHandle } from '../../src/client/orchestrator.js';
import { BATON, baton, batonEnv, fixturePhase, ROOT, tempDir, until, workerForFile } from '../support/baton.js';

const KEY = 'agent-leases-test-key-0123456789abcdef';
const keyed = { BATON_HANDOFF_KEY: KEY };
const setup = workerForFile([], keyed);

const awaiting = (run: RunHandle, ...keys: string[]): Promise<RunStatus> =>
  until(run, `phases ${keys.join(', ')} to await an agent`, (s) => keys.every((k) => s.phases[k]?.state === 'awaiting_agent'));

/** Claims through the CLI; retries while visibility has not seen the run yet (it lags a moment). */
async function claim(args: string[], timeoutMs = 15_000): Promise<ClaimPhaseResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await baton(['agent', 'claim', '--json', ...args]);
    if (r.code === 0) return JSON.parse(r.stdout) as ClaimPhaseResponse;
    if (r.code !== 3 || Date.now() > deadline) throw new Error(`baton agent claim ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 300));
  }
}

const agentEnv = (name: string) => ({ ...keyed, BATON_AGENT_NAME: name });

async function start(name: string, phases: unknown[]): Promise<RunHandle> {
  return setup.orchestrator.start({ name: `${name}-${randomUUID().slice(0, 6)}`, workdir: await tempDir(), phases: phases as never });
}

describe('baton agent claim, heartbeat, release, submit', () => {
  it('claims, heartbeats, refuses a non-holder, submits under the lease, and the run completes with the claim in the provenance', async () => {
    const run = await start('leases', [fixturePhase('review', [], {}, { use_separate_agent: true }), fixturePhase(1, ['review'])]);
    await awaiting(run, 'review');

    const c = await claim(['--run', run.runId, '--agent', 'alice', '--lease-s', '120']);
    expect(c).toMatchObject({ run: run.runId, phase: 'review', agent: 'alice', generation: 1, attempt: 1, lease_s: 120 });
    expect(Date.parse(c.expires_at) - Date.parse(c.since)).toBe(120_000);
    expect(c.handoff_path).toMatch(/phase_review.*\.json$/);
    let s = await run.status();
    expect(s.phases['review']!.awaiting!.claim).toMatchObject({ agent: 'alice', lease_id: c.lease_id, since: c.since, expires_at: c.expires_at });
    expect(s.phases['review']!.awaiting!.package_hash).toBe(c.package_hash);

    // Listed as claimed; a second claim on the run finds nothing it may take (exit 3).
    const listed = await baton(['agent', 'list', '--run', run.runId]);
    expect(listed.stdout).toContain(`claimed by alice until ${c.expires_at}`);
    const second = await baton(['agent', 'claim', '--json', '--run', run.runId, '--agent', 'bob']);
    expect(second.code).toBe(3);
    expect(second.stdout).toBe('');

    const hb = await baton(['agent', 'heartbeat', run.runId, 'review', c.lease_id, '--json']);
    expect(hb.code, hb.stderr).toBe(0);
    const renewed = JSON.parse(hb.stdout) as { expires_at: string };
    expect(Date.parse(renewed.expires_at)).toBeGreaterThanOrEqual(Date.parse(c.expires_at));
    s = await run.status();
    expect(s.phases['review']!.awaiting!.claim!.heartbeat_at).toBeDefined();
    const unknown = await baton(['agent', 'heartbeat', run.runId, 'review', 'no-such-lease']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('heartbeatClaim: phase review has no lease "no-such-lease"; phase review is now claimed by agent "alice"');

    // Bob's result, while alice holds the claim: refused, and the phase keeps waiting.
    const bob = await baton(['execute-phase', c.handoff_path], { cwd: await tempDir('baton-agent-'), env: agentEnv('bob') });
    expect(bob.code).not.toBe(0);
    expect(bob.stderr).toContain('phase review is claimed by agent "alice" until');
    expect(bob.stderr).toContain('this one is from "bob"');
    expect((await run.status()).phases['review']!.state).toBe('awaiting_agent');

    // Alice's, made offline and submitted under her lease.
    const out = path.join(await tempDir('baton-agent-'), 'result.json');
    const made = await baton(['execute-phase', c.handoff_path, '--offline', '--out', out], { cwd: path.dirname(out), env: agentEnv('alice') });
    expect(made.code, made.stderr).toBe(0);
    const wrongLease = await baton(['agent', 'submit', run.runId, out, '--lease', 'no-such-lease']);
    expect(wrongLease.code).toBe(1);
    expect(wrongLease.stderr).toContain('the claim is not held');
    const sent = await baton(['agent', 'submit', run.runId, out, '--lease', c.lease_id]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain(`run ${run.runId} accepted ${out}: phase review completed`);

    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['review']!.provenance).toMatchObject({ via: 'agent', agent: 'alice', claim: { agent: 'alice', lease_id: c.lease_id, since: c.since } });
    expect(final.phases['review']!.awaiting).toBeUndefined();
  });

  it('two agents racing for one phase: one wins, the other is told who holds it', async () => {
    const run = await start('race', [fixturePhase(0, [], {}, { use_separate_agent: true })]);
    await awaiting(run, '0');
    // Through the update itself, at once: exactly one claim is taken.
    const client = setup.orchestrator.client;
    const outcomes = await Promise.allSettled(['ann', 'ben'].map((agent) => claimPhase(client, run.runId, { phase: 0, agent })));
    const won = outcomes.filter((o): o is PromiseFulfilledResult<ClaimPhaseResponse> => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = won[0]!.value;
    expect(String((lost[0]!.reason as Error).message)).toBe(
      `claimPhase: phase 0 is already claimed by agent "${winner.agent}" (since ${winner.since}) until ${winner.expires_at}: take another phase, or wait until its lease ends or is released`,
    );
    // Released, it is back in the inbox; two CLI agents race for it: one exits 0, the other 3 and says why.
    const rel = await baton(['agent', 'release', run.runId, '0', winner.lease_id]);
    expect(rel.code, rel.stderr).toBe(0);
    expect((await run.status()).phases['0']!.awaiting!.claim).toBeUndefined();
    const again = await baton(['agent', 'release', run.runId, '0', winner.lease_id]);
    expect(again.stderr).toContain(`releaseClaim: lease "${winner.lease_id}" on phase 0 (agent "${winner.agent}") was released at`);
    const racers = await Promise.all(['cat', 'dan'].map((agent) => baton(['agent', 'claim', '--json', '--run', run.runId, '--agent', agent])));
    expect(racers.map((r) => r.code).sort()).toEqual([0, 3]);
    const winnerCli = JSON.parse(racers.find((r) => r.code === 0)!.stdout) as ClaimPhaseResponse;
    const loserCli = racers.find((r) => r.code === 3)!;
    // The loser either saw the claim in the listing or was refused by the run; either way it is told.
    expect(loserCli.stderr).toMatch(new RegExp(`claimed by agent "${winnerCli.agent}"|may be claimed by`));
    await run.abort();
  });

  it('a lease that runs out returns the phase to the inbox, and its heartbeat is told it expired', async () => {
    const run = await start('expiry', [fixturePhase(0, [], {}, { use_separate_agent: true })]);
    await awaiting(run, '0');
    const c = await claim(['--run', run.runId, '--agent', 'slow', '--lease-s', '2']);
    expect((await run.status()).phases['0']!.awaiting!.claim?.agent).toBe('slow');
    const t0 = Date.now();
    const s = await until(run, 'the lease to expire', (st) => st.phases['0']!.state === 'awaiting_agent' && !st.phases['0']!.awaiting!.claim, 15_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(s.notices.join('\n')).toContain(`phase 0: agent "slow"'s lease expired at ${c.expires_at} without a heartbeat; the phase is back in the inbox`);
    const late = await baton(['agent', 'heartbeat', run.runId, '0', c.lease_id]);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain(`heartbeatClaim: lease "${c.lease_id}" on phase 0 (agent "slow") expired at ${c.expires_at}; phase 0 is not claimed now`);
    // Back in the inbox: another agent claims it.
    const next = await claim(['--run', run.runId, '--agent', 'quick']);
    expect(next.phase).toBe(0);
    await run.abort();
  });

  it('labels: refused without them, saying which are missing; claimed with them', async () => {
    const run = await start('labels', [fixturePhase('train', [], {}, { use_separate_agent: true, agent: { labels: ['gpu', 'python'] } })]);
    await awaiting(run, 'train');
    const st = await run.status();
    expect(st.phases['train']!.agent_labels).toEqual(['gpu', 'python']);
    await expect(claimPhase(setup.orchestrator.client, run.runId, { phase: 'train', agent: 'cpu-box', labels: ['python'] })).rejects.toThrow(
      'claimPhase: phase train needs an agent with the labels "gpu", "python"; agent "cpu-box" has "python" (missing "gpu")',
    );
    // The CLI does not try what the run would refuse: nothing it may take (exit 3).
    const cpu = await baton(['agent', 'claim', '--json', '--run', run.runId, '--agent', 'cpu-box', '--label', 'python']);
    expect(cpu.code).toBe(3);
    const list = await baton(['agent', 'list', '--json', '--run', run.runId, '--label', 'python']);
    expect(JSON.parse(list.stdout)).toEqual([]);
    const c = await claim(['--run', run.runId, '--agent', 'gpu-box', '--label', 'gpu', '--label', 'python']);
    expect(c.phase).toBe('train');
    expect((await run.status()).phases['train']!.awaiting!.claim).toMatchObject({ agent: 'gpu-box', labels: ['gpu', 'python'] });
    await run.abort();
  });

  it('claim --json exits 3 when nothing is waiting', async () => {
    const r = await baton(['agent', 'claim', '--json', '--plan', `nothing-${randomUUID()}`]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no phase is awaiting an agent');
  });

  it("the README's example runs as written: claim with labels, heartbeat, execute offline, submit under the lease", async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### The agent inbox: claims and leases'));
    const script = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    const run = await start('readme', [fixturePhase('train', [], {}, { use_separate_agent: true, agent: { labels: ['gpu', 'python'] } })]);
    await awaiting(run, 'train');
    // Wait until visibility lists the run, as the example's claim searches every live run.
    for (let i = 0; i < 50; i++) {
      const l = await baton(['agent', 'list', '--json', '--run', run.runId]);
      if ((JSON.parse(l.stdout) as unknown[]).length > 0) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const dir = await tempDir('baton-readme-');
    await writeFile(path.join(dir, 'baton'), `#!/bin/sh\nexec "${process.execPath}" "${BATON}" "$@"\n`);
    await chmod(path.join(dir, 'baton'), 0o755);
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env: { ...batonEnv(keyed), PATH: `${dir}:${process.env.PATH ?? ''}` } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`run ${run.runId} accepted result.json: phase train completed`);
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['train']!.provenance).toMatchObject({ agent: 'gpu-box-1', claim: { agent: 'gpu-box-1', labels: ['gpu', 'python'], lease_s: 600 } });
  });
});
