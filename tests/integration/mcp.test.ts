/**
 * `baton mcp`: a real MCP client (the SDK's, over stdio) spawning the server, taking on a phase
 * awaiting an agent: lists the tools and the inbox, claims, fetches the handoff (with a dependency's
 * value stored by reference read in), reports progress, submits a result the phase's output_schema
 * refuses (a tool error; the phase keeps waiting) and then one it accepts, and the run completes.
 * Two clients racing for one phase: one wins, the other gets a tool error. A short lease runs out
 * and the phase is back in the list.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunHandle } from '../../src/client/orchestrator.js';
import type { RunStatus } from '../../src/core/api/status.js';
import { BATON, batonEnv, fixturePhase, tempDir, until, workerForFile } from '../support/baton.js';

const KEY = 'mcp-test-key-0123456789abcdef0123456789';
const keyed = { BATON_HANDOFF_KEY: KEY };
const setup = workerForFile([], keyed);

const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

/** A client connected to a `baton mcp` it spawned, which holds the key. */
async function connect(name: string): Promise<Client> {
  const env = Object.fromEntries(Object.entries(batonEnv(keyed)).filter((e): e is [string, string] => e[1] !== undefined));
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [BATON, 'mcp'], env, stderr: 'ignore' }));
  clients.push(client);
  return client;
}

/** A tool's JSON answer, as the test reads it (shapes are asserted, not typed). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;

type Answer = { ok: true; value: J; text: string } | { ok: false; text: string };

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Answer> {
  const r = await client.callTool({ name, arguments: args });
  const text = (r.content as Array<{ type: string; text: string }>).map((c) => c.text).join('\n');
  return r.isError ? { ok: false, text } : { ok: true, value: JSON.parse(text) as J, text };
}

async function ok(client: Client, name: string, args: Record<string, unknown>): Promise<J> {
  const a = await call(client, name, args);
  if (!a.ok) throw new Error(`${name} failed: ${a.text}`);
  return a.value;
}

/** Lists until the run's phases are listed as `test` wants (visibility lags a run by a moment). */
async function listUntil(client: Client, run: string, what: string, test: (phases: Array<J>) => boolean, timeoutMs = 20_000): Promise<Array<J>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { phases } = (await ok(client, 'list_awaiting_phases', { run })) as { phases: Array<J> };
    if (test(phases)) return phases;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(phases)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const awaiting = (run: RunHandle, key: string): Promise<RunStatus> => until(run, `phase ${key} to await an agent`, (s) => s.phases[key]?.state === 'awaiting_agent');

async function start(name: string, phases: unknown[]): Promise<RunHandle> {
  return setup.orchestrator.start({ name: `${name}-${randomUUID().slice(0, 6)}`, workdir: await tempDir(), phases: phases as never });
}

const REPORT = { type: 'object', required: ['report'], properties: { report: { type: 'string', minLength: 1 } } };

describe('baton mcp', () => {
  it('lists, claims, fetches the handoff, reports progress, is refused by the output_schema, then accepted, and the run completes', async () => {
    const run = await start('mcp', [
      fixturePhase(0, [], { output_bytes: 5000 }),
      fixturePhase('review', [0], {}, { use_separate_agent: true, output_schema: REPORT }),
      fixturePhase('after', ['review']),
    ]);
    await awaiting(run, 'review');
    const client = await connect('agent-a');

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['claim_phase', 'get_handoff', 'list_awaiting_phases', 'release_phase', 'report_progress', 'submit_result']);
    const submitTool = tools.find((t) => t.name === 'submit_result')!;
    expect(submitTool.inputSchema.required).toEqual(expect.arrayContaining(['run', 'phase', 'lease_id', 'outcome']));

    const [listed] = await listUntil(client, run.runId, 'the phase to be listed', (ps) => ps.length === 1);
    expect(listed).toMatchObject({ run: run.runId, phase: 'review', name: 'Phase review', claim: null, agent_labels: [], generation: 1, attempt: 1 });

    const claim = await ok(client, 'claim_phase', { run: run.runId, phase: 'review', agent: 'claude', lease_s: 120 });
    expect(claim).toMatchObject({ run: run.runId, phase: 'review', agent: 'claude', lease_s: 120, package_hash: listed!.package_hash });
    expect((await run.status()).phases['review']!.awaiting!.claim).toMatchObject({ agent: 'claude', lease_id: claim.lease_id });

    const handoff = await ok(client, 'get_handoff', { run: run.runId, phase: 'review' });
    expect(handoff).toMatchObject({ run: run.runId, phase: 'review', name: 'Phase review', package_hash: claim.package_hash, output_schema: REPORT, unresolved_refs: [] });
    expect(handoff.instructions.mode).toBe('separate_agent');
    expect(handoff.claim).toMatchObject({ agent: 'claude', lease_id: claim.lease_id });
    // The dependency's 5,000-byte value travels by reference in the package; the tool reads it in.
    const raw = await readFile(claim.handoff_path as string, 'utf8');
    expect(raw).toContain('$baton_ref');
    expect(raw).not.toContain('x'.repeat(5000));
    expect(handoff.dependency_contexts['0'].context.blob).toBe('x'.repeat(5000));
    expect(handoff.dependency_contexts['0'].context.value).toBe(1);
    expect(JSON.stringify(handoff.dependency_contexts)).not.toContain('$baton_ref');

    const progress = await ok(client, 'report_progress', { run: run.runId, phase: 'review', message: 'reading the inputs', percent: 40, lease_id: claim.lease_id });
    expect(progress.reported).toBe(true);
    expect(Date.parse(progress.lease.expires_at)).toBeGreaterThanOrEqual(Date.parse(claim.expires_at));
    const s = await until(run, 'the progress report', (st) => st.phases['review']!.progress?.message === 'reading the inputs');
    expect(s.phases['review']!.progress!.percent).toBe(40);

    // Refused by the output_schema: a tool error that says what to fix; the phase keeps waiting, the claim holds.
    const refused = await call(client, 'submit_result', { run: run.runId, phase: 'review', lease_id: claim.lease_id, outcome: 'completed', context: { summary: 'done' } });
    expect(refused.ok).toBe(false);
    expect(refused.text).toContain('refused the result');
    expect(refused.text).toContain("output.context: must have required property 'report'");
    expect(refused.text).toContain('The phase keeps waiting');
    expect(refused.text).toContain('submit_result again');
    const still = await run.status();
    expect(still.phases['review']!.state).toBe('awaiting_agent');
    expect(still.phases['review']!.awaiting!.claim!.lease_id).toBe(claim.lease_id);

    const accepted = await ok(client, 'submit_result', { run: run.runId, phase: 'review', lease_id: claim.lease_id, outcome: 'completed', context: { report: 'all good' } });
    expect(accepted.accepted).toBe(true);
    expect(accepted.phase).toMatchObject({ id: 'review', state: 'completed' });

    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['after']!.state).toBe('completed');
    expect(final.phases['review']!.context!.context).toEqual({ report: 'all good' });
    expect(final.phases['review']!.provenance).toMatchObject({ via: 'agent', agent: 'claude', claim: { agent: 'claude', lease_id: claim.lease_id } });
    // Nothing left in the inbox, and a tool on the finished phase says so.
    expect(await listUntil(client, run.runId, 'the run to leave the inbox', (ps) => ps.length === 0)).toEqual([]);
    const late = await call(client, 'get_handoff', { run: run.runId, phase: 'review' });
    expect(late.ok).toBe(false);
  });

  it('two clients racing for one phase: one wins, the other gets a tool error naming the holder', async () => {
    const run = await start('mcp-race', [fixturePhase(0, [], {}, { use_separate_agent: true })]);
    await awaiting(run, '0');
    const [ann, ben] = await Promise.all([connect('ann'), connect('ben')]);
    const answers = await Promise.all([
      call(ann, 'claim_phase', { run: run.runId, phase: 0, agent: 'ann' }),
      call(ben, 'claim_phase', { run: run.runId, phase: '0', agent: 'ben' }),
    ]);
    const won = answers.filter((a) => a.ok);
    const lost = answers.filter((a) => !a.ok);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = (won[0] as { value: J }).value;
    expect(lost[0]!.text).toContain(`phase 0 is already claimed by agent "${winner.agent}"`);
    // The loser cannot release or submit under a lease it does not hold.
    const loser = winner.agent === 'ann' ? ben : ann;
    const steal = await call(loser, 'submit_result', { run: run.runId, phase: 0, lease_id: 'not-mine', outcome: 'completed', context: {} });
    expect(steal.ok).toBe(false);
    expect(steal.text).toContain('the claim is not held');
    // Released, the phase is back for anyone.
    const released = await ok(winner.agent === 'ann' ? ann : ben, 'release_phase', { run: run.runId, phase: 0, lease_id: winner.lease_id });
    expect(released).toMatchObject({ phase: 0, released: true });
    const second = await ok(loser, 'claim_phase', { run: run.runId, phase: 0, agent: winner.agent === 'ann' ? 'ben' : 'ann' });
    expect(second.phase).toBe(0);
    await run.abort();
  });

  it('a lease that runs out returns the phase to the list, and a result under it is not sent', async () => {
    const run = await start('mcp-expiry', [fixturePhase(0, [], {}, { use_separate_agent: true })]);
    await awaiting(run, '0');
    const client = await connect('slow');
    // Listed first (visibility lags a moment), so the list can be watched while the 2 s lease runs.
    await listUntil(client, run.runId, 'the phase to be listed', (ps) => ps.length === 1);
    const claim = await ok(client, 'claim_phase', { run: run.runId, phase: 0, agent: 'slow', lease_s: 2 });
    expect((await run.status()).phases['0']!.awaiting!.claim).toMatchObject({ agent: 'slow', lease_id: claim.lease_id });
    const t0 = Date.now();
    const back = await listUntil(client, run.runId, 'the lease to run out', (ps) => ps.length === 1 && ps[0]!.claim === null, 15_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(back[0]).toMatchObject({ run: run.runId, phase: 0, claim: null });
    const late = await call(client, 'submit_result', { run: run.runId, phase: 0, lease_id: claim.lease_id, outcome: 'completed', context: {} });
    expect(late.ok).toBe(false);
    expect(late.text).toContain(`expired at ${claim.expires_at}`);
    expect((await run.status()).phases['0']!.state).toBe('awaiting_agent');
    // Back in the inbox: another agent takes it, naming no phase (the oldest it may take).
    const next = await ok(await connect('quick'), 'claim_phase', { run: run.runId, agent: 'quick' });
    expect(next).toMatchObject({ run: run.runId, phase: 0, agent: 'quick' });
    await run.abort();
  });
});
