/**
 * The run's current details as a person reads them in the Web UI: what a held run asks for, once,
 * as a block that copies as valid JSON; how long phases took; what blocks a pending one.
 */
import { describe, expect, it } from 'vitest';
import type { PhaseStatus } from '../../src/core/api/status.js';
import { renderDetails } from '../../src/core/workflows/details.js';
import type { RunOverview } from '../../src/core/workflows/projections.js';

function phase(id: string, extra: Partial<PhaseStatus> = {}): PhaseStatus {
  return { id, name: `Phase ${id}`, state: 'completed', attempts: 1, generation: 1, resource_class: 'default', task_queue: 'baton-default', depends_on: [], separate_agent: false, scheduled_at: null, started_at: null, finished_at: null, ...extra } as PhaseStatus;
}

const phases: Record<string, PhaseStatus> = {
  load: phase('load', { started_at: '2026-01-01T00:00:00.000Z', finished_at: '2026-01-01T00:02:05.000Z' }),
  lint: phase('lint', { state: 'failed', attempts: 3, depends_on: ['load'], error: 'phase lint (Phase lint) exited with code 1: 3 errors\nsee the log' }),
  report: phase('report', { state: 'pending', depends_on: ['load', 'lint'] }),
};
const source = { keys: () => Object.keys(phases), phase: (k: string) => ({ status: () => phases[k]! }) };
const held: RunOverview = {
  plan: 'checks', state: 'held', paused: false, total: 3, counts: {}, running: [], awaiting_agent: [], failed: ['lint'], ready: [],
  held_reason: 'phase lint (Phase lint) failed: 3 errors. Send retryPhase {"phase": "lint"} to run it again, or skipPhase to move on.',
};

describe('current details', () => {
  const details = renderDetails(held, source, 'run-7', ['retryPhase: refused: the plan has no phase 9; phases are load, lint, report']);

  it('say "action needed" when held, and give the request once, as a JSON block', () => {
    expect(details.split('\n')[0]).toBe('**checks** · held · **action needed**');
    expect(details).toContain('```json\n{"phase":"lint"}\n```');
    expect(details).not.toContain('Send retryPhase');
    expect(details).toContain('`baton retry run-7 lint`');
  });

  it('mark the failed phase, say how long one took and which phase blocks a pending one, with the last error', () => {
    expect(details).toContain('| load | Phase load | completed | 1 | 2 min 5 s |  | baton\\-default |  |');
    expect(details).toContain('| lint | Phase lint | **failed** | 3 |  |  | baton\\-default | phase lint \\(Phase lint\\) exited with code 1\\: 3 errors see the log |');
    expect(details).toContain('| report | Phase report | pending | 1 |  | lint (failed) | baton\\-default |  |');
  });

  it('show the latest notices', () => {
    expect(details).toContain('- retryPhase\\: refused\\: the plan has no phase 9; phases are load, lint, report');
  });

  it('say nothing is needed when nothing is held, and how to resume when paused', () => {
    const running = renderDetails({ ...held, state: 'running', failed: [], held_reason: undefined, paused: true }, source, 'run-7');
    expect(running.split('\n')[0]).toBe('**checks** · running, paused by an operator');
    expect(running).not.toContain('```json');
    expect(running).toContain('`baton resume run-7`');
  });

  it("link to the run's page on baton ui when the config names one, escaped so the link stays whole", () => {
    const linked = renderDetails(held, source, 'run-7', [], 'http://127.0.0.1:8234/');
    expect(linked).toContain('[This run in baton ui](http://127.0.0.1:8234/runs/run-7)');
    const odd = renderDetails(held, source, 'run 7', [], 'http://host/a(b) c');
    expect(odd).toContain('[This run in baton ui](http://host/a%28b%29%20c/runs/run%207)');
    expect(details).not.toContain('](');
  });
});
