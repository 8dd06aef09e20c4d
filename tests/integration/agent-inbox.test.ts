/**
 * The agent inbox, read side: `baton agent list` finds phases awaiting an agent across runs
 * (Temporal's visibility, then each run's phases query), filtered by run, plan and class, and
 * drops a phase once an agent has reported it.
 */
import { describe, expect, it } from 'vitest';
import type { AwaitingPhase } from '../../src/client/agent-inbox.js';
import { inboxQuery } from '../../src/client/agent-inbox.js';
import type { RunHandle } from '../../src/client/orchestrator.js';
import type { RunStatus } from '../../src/core/api/status.js';
import { baton, fixturePhase, tempDir, until, workerForFile } from '../support/baton.js';

const KEY = 'agent-inbox-test-key-0123456789abcdef';
const keyed = { BATON_HANDOFF_KEY: KEY };
const setup = workerForFile([], keyed);

const awaiting = (run: RunHandle, ...keys: string[]): Promise<RunStatus> =>
  until(run, `phases ${keys.join(', ')} to await an agent`, (s) => keys.every((k) => s.phases[k]?.state === 'awaiting_agent'));

async function list(args: string[]): Promise<AwaitingPhase[]> {
  const r = await baton(['agent', 'list', '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as AwaitingPhase[];
}

/** Lists until `test` holds: visibility lags a run by a moment. */
async function listUntil(args: string[], what: string, test: (l: AwaitingPhase[]) => boolean, timeoutMs = 15_000): Promise<AwaitingPhase[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listed = await list(args);
    if (test(listed)) return listed;
    if (Date.now() > deadline) throw new Error(`baton agent list ${args.join(' ')}: ${what} not seen in ${timeoutMs} ms; last: ${JSON.stringify(listed)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const ids = (l: AwaitingPhase[]): string[] => l.map((p) => `${p.run}/${String(p.phase)}`).sort();

describe('baton agent list', () => {
  it('builds its visibility query from the filter, quoting what it is given', () => {
    expect(inboxQuery()).toBe("ExecutionStatus = 'Running' AND BatonAwaitingAgent IS NOT NULL");
    expect(inboxQuery({ plan: "o'brien", runs: ['a', 'b'] })).toBe(
      "ExecutionStatus = 'Running' AND BatonAwaitingAgent IS NOT NULL AND BatonPlan = 'o\\'brien' AND WorkflowId IN ('a', 'b')",
    );
  });

  it('lists phases awaiting an agent across runs, by run, plan and class, and drops one once an agent reports it', async () => {
    const a = await setup.orchestrator.start({
      name: 'inbox-a',
      workdir: await tempDir(),
      phases: [fixturePhase('review', [], {}, { use_separate_agent: true }), fixturePhase(1, ['review'])],
    });
    const b = await setup.orchestrator.start({
      name: 'inbox-b',
      workdir: await tempDir(),
      phases: [fixturePhase(0, [], {}, { use_separate_agent: true, agent_timeout_s: 3600 }), fixturePhase(1, [], {}, { use_separate_agent: true })],
    });
    const sa = await awaiting(a, 'review');
    const sb = await awaiting(b, '0', '1');

    // Unfiltered: both runs' phases (other files' runs may be listed too).
    const all = await listUntil([], 'both runs', (l) => ['review', 0, 1].every((p, i) => l.some((x) => x.run === (i === 0 ? a.runId : b.runId) && x.phase === p)));
    const ra = all.find((x) => x.run === a.runId)!;
    expect(ra).toMatchObject({
      plan: 'inbox-a',
      phase: 'review',
      name: 'Phase review',
      resource_class: 'default',
      generation: 1,
      attempt: 1,
      since: sa.phases['review']!.awaiting!.since,
      deadline: sa.phases['review']!.awaiting!.deadline,
      package_hash: sa.phases['review']!.awaiting!.package_hash,
      handoff_path: sa.phases['review']!.awaiting!.handoff_path,
      script_path: sa.phases['review']!.awaiting!.script_path,
    });
    // b's phase 0 has an hour (agent_timeout_s: 3600), not the config's week.
    const b0 = all.find((x) => x.run === b.runId && x.phase === 0)!;
    expect(b0.deadline).toBe(sb.phases['0']!.awaiting!.deadline);
    expect(Date.parse(b0.deadline!) - Date.parse(b0.since)).toBe(3600_000);

    expect(ids(await list(['--run', a.runId]))).toEqual([`${a.runId}/review`]);
    expect(ids(await list(['--plan', 'inbox-b']))).toEqual([`${b.runId}/0`, `${b.runId}/1`]);
    expect(ids(await list(['--run', a.runId, '--run', b.runId, '--class', 'default']))).toEqual([`${a.runId}/review`, `${b.runId}/0`, `${b.runId}/1`].sort());
    expect(await list(['--run', a.runId, '--run', b.runId, '--class', 'gpu'])).toEqual([]);

    const text = await baton(['agent', 'list', '--run', a.runId]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`${a.runId}  phase review (Phase review)  class default  generation 1  since ${ra.since}, until ${ra.deadline!}`);
    expect(text.stdout).toContain(`  baton execute-phase ${ra.handoff_path}`);
    const none = await baton(['agent', 'list', '--run', a.runId, '--class', 'gpu']);
    expect(none.stdout.trim()).toBe('no phase is awaiting an agent');

    // An agent takes b's phase 1 from the listing: it leaves the inbox, phase 0 stays.
    const listed = (await list(['--run', b.runId])).find((x) => x.phase === 1)!;
    const ran = await baton(['execute-phase', listed.handoff_path], { cwd: await tempDir('baton-agent-'), env: { ...keyed, BATON_AGENT_NAME: 'inbox-agent' } });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ids(await list(['--run', b.runId]))).toEqual([`${b.runId}/0`]);

    // Ended runs list nothing, whatever visibility says for a moment.
    await a.abort();
    await b.abort();
    await listUntil(['--run', a.runId, '--run', b.runId], 'an empty inbox', (l) => l.length === 0);
    expect((await b.status()).phases['1']!.provenance).toMatchObject({ via: 'agent', agent: 'inbox-agent' });
  });
});
