/**
 * The guide's modes 2 and 3 with real agents: each agent is a separate `baton execute-phase`
 * process, in its own working directory, that reports back to the run (or not, offline).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunHandle } from '../../src/client/orchestrator.js';
import { AgentResultSchema, type AgentResult } from '../../src/core/handoff/result.js';
import { hmacKeyId, seal } from '../../src/runner/signing.js';
import { baton, batonEnv, type CliResult, findRuns, fixturePhase, runDir, tempDir, until, workerForFile } from '../support/baton.js';

const KEY = 'agents-test-handoff-key-0123456789abcdef';
const keyed = { BATON_HANDOFF_KEY: KEY };
const setup = workerForFile([], keyed);


const awaiting = (run: RunHandle, ...keys: string[]) =>
  until(run, `phases ${keys.join(', ')} to await an agent`, (s) => keys.every((k) => s.phases[k]?.state === 'awaiting_agent'));

/** An agent: `baton execute-phase` in a working directory of its own, with only the key and its name. */
async function agent(args: string[], name: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return baton(['execute-phase', ...args], { cwd: await tempDir('baton-agent-'), env: { ...keyed, BATON_AGENT_NAME: name, ...env } });
}

describe('separate agents', () => {
  it('mode 2 online: the run waits durably, the agent runs the package and reports; provenance is recorded', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'agent-online',
      workdir,
      phases: [fixturePhase(0), fixturePhase(1, [0], {}, { use_separate_agent: true }), fixturePhase(2, [1])],
    });
    const waiting = await awaiting(run, '1');
    const handed = waiting.phases['1']!.awaiting!;
    expect(existsSync(handed.handoff_path)).toBe(true);
    expect(existsSync(handed.script_path)).toBe(true);
    expect(waiting.phases['1']!.separate_agent).toBe(true);

    // Findable as awaiting an agent, from the UI's filter or `temporal workflow list --query`.
    expect(await findRuns(setup.orchestrator.client, `BatonAwaitingAgent = '1' AND BatonPlan = 'agent-online'`, run.runId)).toContain(run.runId);

    const ran = await agent([handed.handoff_path], 'claude-code');
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`phase 1 (Phase 1) completed; run ${run.runId} accepted the result`);

    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    const p1 = status.phases['1']!;
    expect(p1.provenance).toMatchObject({ via: 'agent', agent: 'claude-code', mode: 'online', package_hash: handed.package_hash });
    expect(p1.provenance!.result_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(p1.executed_by).toMatch(/^claude-code@/);
    expect(status.phases['2']!.context!.context.dependency_keys).toEqual(['1']);
    expect(status.phases['0']!.provenance).toMatchObject({ via: 'worker', mode: 'inline' });
  });

  it('offline: the agent writes a sealed result with no Temporal in reach; baton submit delivers it later', async () => {
    const run = await setup.orchestrator.start({ name: 'agent-offline', workdir: await tempDir(), phases: [fixturePhase(0, [], {}, { use_separate_agent: true })] });
    const handed = (await awaiting(run, '0')).phases['0']!.awaiting!;
    const out = path.join(await tempDir(), 'result.json');
    const ran = await agent([handed.handoff_path, '--offline', '--out', out], 'offline-box', { TEMPORAL_ADDRESS: '127.0.0.1:9' });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`baton submit ${out}`);
    expect((await run.status()).phases['0']!.state).toBe('awaiting_agent');

    const submitted = await baton(['submit', out]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const status = await run.finalStatus();
    expect(status.phases['0']!.provenance).toMatchObject({ via: 'agent', mode: 'offline', agent: 'offline-box' });
  });

  it('refuses bad results with a clear reason, keeps waiting, then accepts a good one', async () => {
    const run = await setup.orchestrator.start({
      name: 'agent-refusals',
      workdir: await tempDir(),
      phases: [fixturePhase(0, [], {}, {
        use_separate_agent: true,
        output_schema: { type: 'object', required: ['value'], properties: { value: { type: 'number' } } },
      })],
    });
    const handed = (await awaiting(run, '0')).phases['0']!.awaiting!;
    const dir = await tempDir();
    const goodFile = path.join(dir, 'good.json');
    expect((await agent([handed.handoff_path, '--offline', '--out', goodFile], 'agent-x')).code).toBe(0);
    const good = AgentResultSchema.parse(JSON.parse(await readFile(goodFile, 'utf8')));
    const secret = Buffer.from(KEY);
    const resign = (r: AgentResult) => seal(r, { alg: 'hmac-sha256', keyId: hmacKeyId(secret), secret });

    const bad: Array<[string, unknown, string]> = [
      ['another run', resign({ ...good, execution_id: 'some-other-run' }), `the result is for run some-other-run, but this is run ${run.runId}`],
      ['another phase', resign({ ...good, phase: 9 }), 'the result is for phase 9, which this run does not have'],
      ['another generation', resign({ ...good, generation: 5 }), 'the result is for generation 5 of phase 0, but the phase is at generation 1'],
      ['another package', resign({ ...good, package_hash: `sha256:${'0'.repeat(64)}` }), 'not the one handed out'],
      ['a changed output', { ...good, output: { ...good.output!, context: { ...good.output!.context, value: 99 } } }, "content_hash does not match the result's content"],
      ['no signature', seal({ ...good }, undefined), 'the result has no signature'],
      ['an output off its schema', resign({ ...good, output: { context: { value: 'seven' }, artifacts: {} } }), 'output.context.value:'],
      ['not a result', { hello: 'world' }, 'is not valid:\n  - schema_version'],
    ];
    for (const [what, result, message] of bad) {
      const file = path.join(dir, `bad-${what.replace(/\W+/g, '-')}.json`);
      await writeFile(file, JSON.stringify(result));
      const refused = await baton(['submit', file, '--run', run.runId]);
      expect(refused.code, `${what}: ${refused.stdout}`).not.toBe(0);
      expect(refused.stderr, what).toContain(message);
      expect((await run.status()).phases['0']!.state, what).toBe('awaiting_agent');
    }

    // The workflow checks for itself what a client did not (the UI's Update dialog sends raw JSON).
    await expect(run.complete({ hello: 'world' } as unknown as AgentResult)).rejects.toThrow(/^the result is not valid: "schema_version" is missing; it must be 1; .*unknown key "hello"/);
    expect((await run.status()).phases['0']!.state).toBe('awaiting_agent');

    expect((await baton(['submit', goodFile])).code).toBe(0);
    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    expect(status.phases['0']!.context!.context.value).toBe(1);
  });

  it('falls back to a worker when no agent reports in time, and then refuses the late result', async () => {
    const run = await setup.orchestrator.start({
      name: 'agent-timeout',
      workdir: await tempDir(),
      phases: [
        fixturePhase(0, [], {}, { use_separate_agent: true, agent_timeout_s: 4, on_agent_timeout: 'inline' }),
        fixturePhase(1, [0], {}, { use_separate_agent: true }), // keeps the run open for the late result
      ],
    });
    const handed = (await awaiting(run, '0')).phases['0']!.awaiting!;
    // The fallback writes the worker's package (generation 2) to the same path: keep the agent's own
    // copy at once, since starting `baton execute-phase` can take longer than the timeout on a loaded machine.
    const dir = await tempDir();
    const pkgCopy = path.join(dir, 'phase_0.json');
    await writeFile(pkgCopy, await readFile(handed.handoff_path));
    expect(JSON.parse(await readFile(pkgCopy, 'utf8'))).toMatchObject({ generation: 1, execution_instructions: { mode: 'separate_agent' } });
    const late = path.join(dir, 'late.json');
    expect((await agent([pkgCopy, '--offline', '--out', late], 'slowpoke')).code).toBe(0);
    const status = await awaiting(run, '1');
    expect(status.phases['0']!.state).toBe('completed');
    const p0 = status.phases['0']!;
    expect(p0.agent_fallback).toBe('no agent reported phase 0 within 4s; a worker on baton-default ran it instead (on_agent_timeout: inline)');
    expect(p0.provenance!.via).toBe('worker');
    expect(p0.generation).toBe(2);
    const refused = await baton(['submit', late]);
    expect(refused.stderr, refused.stderr).toContain('phase 0 is completed, not awaiting an agent');
    await run.abort();
    expect((await baton(['submit', late])).stderr).toContain(`run ${run.runId} has ended (cancelled); it accepts nothing more`);
  });

  it('hands 7, 8 and 9 to three agents at once; they finish in any order', async () => {
    const run = await setup.orchestrator.start({
      name: 'agents-parallel',
      workdir: await tempDir(),
      phases: [
        fixturePhase(6),
        fixturePhase(7, [6], { sleep_ms: 1200 }, { use_separate_agent: true }),
        fixturePhase(8, [6], { sleep_ms: 600 }, { use_separate_agent: true }),
        fixturePhase(9, [6], {}, { use_separate_agent: true }),
        fixturePhase(10, [7, 8, 9]),
      ],
    });
    const status = await awaiting(run, '7', '8', '9');
    const results = await Promise.all(['9', '7', '8'].map((k) => agent([status.phases[k]!.awaiting!.handoff_path], `agent-${k}`)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    const finished = (k: string) => Date.parse(final.phases[k]!.finished_at!);
    expect(finished('9')).toBeLessThan(finished('8'));
    expect(finished('8')).toBeLessThan(finished('7'));
    expect(final.phases['10']!.context!.context.dependency_keys).toEqual(['7', '8', '9']);
    expect(['7', '8', '9'].map((k) => final.phases[k]!.provenance!.agent)).toEqual(['agent-7', 'agent-8', 'agent-9']);
  });
});

describe("the guide's step-by-step example, with Baton's API", () => {
  it('runs phase 0 normally, hands phase 1 to a separate agent, loads the handoff', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'guide-example',
      workdir,
      auto_advance: false,
      global_context: { repo: '.' },
      shared_artifacts: { inventory: 'data/inventory.csv' },
      phases: [fixturePhase(0), fixturePhase(1, [0]), fixturePhase(2, [1])],
    });

    // Phase 0 - normal execution
    const phase0 = await run.executePhase(0, { useSeparateAgent: false });
    expect(phase0.state).toBe('completed');
    expect((await run.status()).phases['1']!.state).toBe('pending'); // nothing runs unrequested

    // Phase 1 - prepare the handoff
    const phase1 = await run.executePhase(1, { useSeparateAgent: true });
    expect(phase1.state).toBe('awaiting_agent');

    // Load and use the handoff, as the guide's AgentHandoff.load_handoff(phase=1)
    const handoff = await run.loadHandoff(1);
    expect(handoff.previous_phase_context).toEqual(phase0.context);
    expect(handoff.shared_artifacts).toEqual({ inventory: 'data/inventory.csv' });
    expect(handoff.global_context).toEqual({ repo: '.' });

    // In another agent/machine: consolidation/runs/<run>/handoffs/execute_phase_1.sh
    const script = path.join(runDir(workdir, run.runId), 'handoffs', 'execute_phase_1.sh');
    const ran = await new Promise<number | null>((resolve) => {
      const proc = spawn('sh', [script], { cwd: path.dirname(workdir), env: batonEnv({ ...keyed, BATON_AGENT_NAME: 'second-agent' }), stdio: 'ignore' });
      proc.once('exit', resolve);
    });
    expect(ran).toBe(0);
    expect((await until(run, 'phase 1', (s) => s.phases['1']!.state === 'completed')).phases['1']!.provenance!.agent).toBe('second-agent');

    await expect(run.executePhase(7)).rejects.toThrow('executePhase: the plan has no phase 7; phases are 0, 1, 2');
    expect((await run.executePhase(2)).state).toBe('completed');
    expect((await run.finalStatus()).state).toBe('completed');
  });
});
