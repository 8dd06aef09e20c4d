/**
 * A run that continues as new, on a real dev server with real workers: it carries its state,
 * reads archived outputs back when a phase needs them, keeps waiting for an agent across the
 * boundary, and ends with one complete status and execution_context.json.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { baton, fixturePhase, tempDir, until, workerForFile } from '../support/baton.js';

const KEY = 'continue-test-handoff-key-0123456789abc';
const setup = workerForFile([], { BATON_HANDOFF_KEY: KEY });

describe('continue-as-new', () => {
  it('carries a run across several segments without losing a phase, an output or an agent', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start(
      {
        name: 'continued',
        workdir,
        phases: [
          fixturePhase(0),
          ...[1, 2, 3].map((i) => fixturePhase(i, [0])),
          ...[4, 5, 6].map((i) => fixturePhase(i, [i - 3])),
          fixturePhase(7, [4, 5, 6]),
          // Handed to an agent early; reported only after the run has continued as new.
          fixturePhase(8, [], {}, { use_separate_agent: true, agent_timeout_s: 600 }),
          // Reads every ancestor's output, including phase 0's, archived segments ago.
          fixturePhase(9, [7], {}, { transitive_context: true }),
          fixturePhase(10, [9]),
          fixturePhase(11, [9, 8]),
        ],
      },
      { max_parallel_phases: 2, continue_as_new_after_phases: 3 },
    );
    const waiting = await until(run, 'phase 8 to await an agent in a later segment', (s) => s.phases['8']?.state === 'awaiting_agent' && (s.continued?.segment ?? 0) >= 1, 60_000);
    const firstRunId = (await run.workflow.describe()).runId;
    const agent = await baton(['execute-phase', waiting.phases['8']!.awaiting!.handoff_path], { cwd: await tempDir('baton-agent-'), env: { BATON_HANDOFF_KEY: KEY } });
    expect(agent.code, agent.stderr).toBe(0);

    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    expect(Object.values(status.phases).map((p) => p.state)).toEqual(Array(12).fill('completed'));
    expect(status.continued!.segment).toBeGreaterThanOrEqual(2);
    expect((await run.workflow.describe()).runId).not.toBe(firstRunId);
    // Each phase ran once: nothing was run again for having crossed a boundary.
    for (const phase of Object.values(status.phases)) expect(phase.attempts).toBe(1);

    const exported = JSON.parse(await readFile(path.join(workdir, 'execution_context.json'), 'utf8'));
    const nine = exported.phases['9'].context.context;
    expect(nine.dependency_keys).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(nine.dependency_values['0']).toBe(1);
    // previous_phase_context travels out of history and is put back for the phase.
    expect(exported.phases['1'].context.context.previous_value).toBe(1);
    expect(exported.phases['11'].context.context.dependency_keys).toEqual(['8', '9']);
    // The final file is complete: archived phases have their details and outputs back.
    for (const key of Object.keys(status.phases)) {
      expect(exported.phases[key].state).toBe('completed');
      expect(exported.phases[key].executed_by, `phase ${key}`).toBeTruthy();
      expect(exported.phases[key].context.context.phase, `phase ${key}`).toBe(key);
    }
    expect(exported.phases['0'].archived).toBe(true);
    expect(exported.phases['8'].provenance.via).toBe('agent');

    // The audit trail spans the chain: `baton history` reads every run of it, oldest first.
    const history = await baton(['history', run.runId, '--json']);
    expect(history.code, history.stderr).toBe(0);
    const timeline = JSON.parse(history.stdout) as { entries: Array<{ text: string }>; attempts: Array<{ phase: string; outcome: string }> };
    expect(timeline.entries[0]!.text).toMatch(/^run started/);
    expect(timeline.entries.filter((e) => e.text.startsWith('continuing as new'))).toHaveLength(status.continued!.segment);
    const ranOnWorkers = timeline.attempts.filter((a) => a.outcome === 'completed').map((a) => a.phase).sort((a, b) => Number(a) - Number(b));
    expect(ranOnWorkers).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '9', '10', '11']); // 8 ran on an agent
  }, 120_000);

  it('answers executePhase across continue-as-new boundaries, step by step (auto_advance false)', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start(
      { name: 'stepwise', workdir, auto_advance: false, phases: [fixturePhase(0), fixturePhase(1, [0]), fixturePhase(2, [1])] },
      { continue_as_new_after_phases: 1 },
    );
    for (const id of [0, 1, 2]) {
      const phase = await run.executePhase(id, { useSeparateAgent: false });
      expect(phase.state, `phase ${id}`).toBe('completed');
    }
    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    expect(status.continued!.segment).toBeGreaterThanOrEqual(1);
    expect(status.phases['2']!.context!.context.dependency_values).toEqual({ '1': 2 });
  }, 60_000);
});
