/**
 * The bad-input catalogue, part 2: signals, updates, agent results and phase outputs sent to a
 * live run. Each is refused (or fails only its phase) with a message naming the problem, and the
 * run carries on to completion.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import type { AgentResult } from '../../src/core/handoff/result.js';
import { baton, fixturePhase, tempDir, until, workerForFile } from '../support/baton.js';

const setup = workerForFile([], { BATON_HANDOFF_KEY: 'bad-inputs-test-key-0123456789' });


const signal = async (runId: string, name: string, input: string): Promise<void> => {
  await promisify(execFile)(inject('temporalBinary'), ['workflow', 'signal', '--workflow-id', runId, '--name', name, '--input', input, '--address', inject('temporalAddress')]);
};

const node = (script: string) => ['node', '-e', script];
const writeOutput = (value: string) => node(`require('fs').writeFileSync(process.env.BATON_OUTPUT, ${JSON.stringify(value)})`);

describe('bad input to a live run', () => {
  it('refuses each with a clear message, and the run still completes', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'bad-inputs',
      workdir,
      phases: [
        fixturePhase(0),
        { id: 'escape', name: 'Escapes the workdir', depends_on: [0], command: writeOutput(JSON.stringify({ artifacts: { loot: '../outside.txt' } })) },
        { id: 'garbled', name: 'Garbled output', depends_on: [0], command: writeOutput('{"context": ') },
        // The token is made at run time: in the plan itself it would (rightly) be refused up front.
        { id: 'leaky', name: 'Leaks a token', depends_on: [0], command: node(`require('fs').writeFileSync(process.env.BATON_OUTPUT, JSON.stringify({ context: { github_token: 'ghp' + '_' + 'a'.repeat(36) } }))`) },
        fixturePhase('agent', [0], {}, { use_separate_agent: true }),
        fixturePhase('last', ['escape', 'garbled', 'leaky', 'agent']),
      ],
    });
    const held = await until(run, 'the three bad phases to fail and the agent to wait', (s) => ['escape', 'garbled', 'leaky'].every((k) => s.phases[k]!.state === 'failed') && s.phases.agent!.state === 'awaiting_agent');

    // Phase outputs: each fails only its phase, with the reason.
    expect(held.phases.escape!.error).toMatch(/^phase escape \(Escapes the workdir\) reported a bad artifact: "\.\.\/outside\.txt" resolves to .*, outside the workdir/);
    expect(held.phases.escape!.attempts).toBe(1); // not retried: retrying cannot help
    expect(held.phases.garbled!.error).toMatch(/^phase garbled \(Garbled output\) wrote .*, which is not JSON/);
    expect(held.phases.leaky!.error).toMatch(/^phase leaky \(Leaks a token\) output credentials: context\.github_token: a GitHub token \(ghp_…\)/);
    expect(held.phases.leaky!.error).not.toContain('a'.repeat(36));
    expect(held.phases['0']!.state).toBe('completed');

    // Signals from the UI's dialog or the CLI: refused with a notice, nothing else changes.
    const signals: Array<[string, string, string]> = [
      ['retryPhase', '{"phase": 99}', 'retryPhase: the plan has no phase 99; phases are 0, escape, garbled, leaky, agent, last'],
      ['skipPhase', '{"phase": 0}', 'skipPhase: phase 0 is completed; only a pending, ready or failed phase can be skipped'],
      ['retryPhase', '"not an object"', 'retryPhase: must be an object, got "not an object"'],
      ['retryPhase', '{"phase": "escape", "colour": "blue"}', 'retryPhase: unknown key "colour"; remove it, or use one of: phase, downstream'],
      ['retryPhase', '{"phase": "agent"}', 'retryPhase: phase agent is awaiting_agent; only a failed, completed or skipped phase can be retried'],
      ['retryPhase', '{"phase": "escape", "resource_class": "quantum"}', 'retryPhase: resource class "quantum" is not declared; use one of: default, gpu'],
      ['skipPhase', '[1, 2]', 'skipPhase: must be an object, got a list; expected {"phase": <id>}, got [1,2]'],
      ['agentProgress', '{"phase": "last", "message": "hi"}', 'agentProgress: phase last is pending, not awaiting an agent'],
      ['retryPhase', '{"phase": 0, "timeout_s": -1}', 'retryPhase: "timeout_s" must be > 0, got -1'],
    ];
    for (const [name, input] of signals) await signal(run.runId, name, input);
    const noticed = await until(run, 'every notice', (s) => s.notices.length >= signals.length);
    signals.forEach(([, , message], i) => expect(noticed.notices[i], signals[i]![1]).toContain(message));
    expect(noticed.phases['0']!.generation).toBe(1);

    // Updates: refused with the reason, the phase keeps waiting.
    await expect(run.executePhase('nope')).rejects.toThrow('executePhase: the plan has no phase nope');
    await expect(run.executePhase(0)).rejects.toThrow('executePhase: phase 0 is completed; use retryPhase to run a finished phase again');
    const awaiting = noticed.phases.agent!.awaiting!;
    const result: AgentResult = {
      schema_version: 1,
      execution_id: run.runId,
      phase: 'agent',
      generation: 1,
      attempt: 1,
      package_hash: awaiting.package_hash,
      outcome: 'completed',
      output: { context: {}, artifacts: {} },
      error: null,
      provenance: { host: 'h', user: 'u', agent: null, mode: 'online', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z' },
      content_hash: null,
      signature: null,
    };
    await expect(run.complete({ ...result, execution_id: 'another-run' })).rejects.toThrow(`the result is for run another-run, but this is run ${run.runId}`);
    await expect(run.complete({ ...result, phase: 'ghost' })).rejects.toThrow('the result is for phase ghost, which this run does not have');
    await expect(run.complete({ ...result, outcome: 'failed' })).rejects.toThrow('a failed result needs an "error" saying what went wrong');
    await expect(run.complete({ ...result, output: { context: { huge: 'x'.repeat(400 * 1024) }, artifacts: {} } })).rejects.toThrow("the result's inline context is over 256 KiB: store large values by reference");
    await expect(run.complete({ ...result, output: { context: {}, artifacts: { a: { path: '../../etc/passwd', sha256: '0'.repeat(64), size: 1 } } } })).rejects.toThrow(/output\.artifacts\.a: .*outside the workdir/);
    await expect(run.complete(result)).rejects.toThrow('the result has no signature');
    expect((await run.status()).phases.agent!.state).toBe('awaiting_agent');

    // And the run is unaffected: a good result, retries and skips take it to the end.
    const agentRun = await baton(['execute-phase', awaiting.handoff_path], { env: { BATON_HANDOFF_KEY: 'bad-inputs-test-key-0123456789' } });
    expect(agentRun.code, agentRun.stderr).toBe(0);
    for (const k of ['escape', 'garbled', 'leaky']) await run.skip(k);
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases.last!.state).toBe('completed');
    expect(path.isAbsolute(final.workdir)).toBe(true);
  });

  it('refuses a hand-made "continued" input (the state a run carries when it continues as new) before any phase runs', async () => {
    const workdir = await tempDir();
    const handle = await setup.orchestrator.client.workflow.start('phasedRun', {
      taskQueue: 'baton',
      workflowId: `forged-continued-${Date.now()}`,
      args: [{ plan: { name: 'forged', workdir, phases: [fixturePhase(0)] }, continued: { segment: 'two', phases: {} } }],
    });
    await expect(handle.result()).rejects.toMatchObject({
      cause: { type: 'InvalidPlan', message: expect.stringMatching(/^the input's "continued" is not valid \(segment: .*\); it is written by a run that continues as new: start runs without it$/) },
    });
    expect((await handle.fetchHistory()).events!.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runPhase')).toBe(false);
  });
});
