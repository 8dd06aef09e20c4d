/**
 * The bad-input catalogue: output schemas against live runs. A pattern that backtracks costs one
 * refused result in bounded time, never the orchestrator worker (another run's status stays fast
 * and its valid result is accepted meanwhile); a schema that cannot be used is refused when the
 * run starts, by `baton run` and by the workflow itself for a run started from the Temporal CLI.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunHandle } from '../../src/client/orchestrator.js';
import type { RunStatus } from '../../src/core/api/status.js';
import type { AgentResult } from '../../src/core/handoff/result.js';
import { baton, fixturePhase, tempDir, temporal, until, workerForFile } from '../support/baton.js';

const setup = workerForFile([]);

/** The pattern of issue 14: about a minute to refuse 34 a's and a "!" on the thread that matches it. */
const BACKTRACKS = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^(a+)+$' } } };
const REPORT = { type: 'object', required: ['report_path'], properties: { report_path: { type: 'string', minLength: 1 } } };

function resultFor(run: RunHandle, status: RunStatus, phase: string, context: Record<string, unknown>): AgentResult {
  const rec = status.phases[phase]!;
  return {
    schema_version: 1,
    execution_id: run.runId,
    phase,
    generation: rec.generation!,
    attempt: 1,
    package_hash: rec.awaiting!.package_hash,
    outcome: 'completed',
    output: { context, artifacts: {} },
    error: null,
    provenance: { host: 'h', user: 'u', agent: 'test-agent', mode: 'online', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z' },
    content_hash: null,
    signature: null,
  };
}

async function timed<T>(work: Promise<T>): Promise<{ ms: number; at: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await work;
    return { ms: performance.now() - started, at: performance.now(), value };
  } catch (error) {
    return { ms: performance.now() - started, at: performance.now(), error };
  }
}

describe('output schemas in a live run', () => {
  it('a pattern that backtracks refuses its result in bounded time, while another run answers at once and has its result accepted', async () => {
    const { orchestrator } = setup;
    const config = { accept_unsigned_results: true };
    const slow = await orchestrator.start(
      {
        name: 'backtracking-schema',
        workdir: await tempDir(),
        phases: [fixturePhase(0), fixturePhase('agent', [0], {}, { use_separate_agent: true, output_schema: BACKTRACKS }), fixturePhase('after', ['agent'])],
      },
      config,
    );
    const other = await orchestrator.start(
      {
        name: 'bystander',
        workdir: await tempDir(),
        phases: [
          fixturePhase(0),
          fixturePhase('report', [0], {}, { use_separate_agent: true, output_schema: REPORT }),
          fixturePhase('later', [0], {}, { use_separate_agent: true }),
        ],
      },
      config,
    );
    const slowWaiting = await until(slow, 'the agent phase to wait', (s) => s.phases.agent!.state === 'awaiting_agent');
    const otherWaiting = await until(other, 'both agent phases to wait', (s) => s.phases.report!.state === 'awaiting_agent' && s.phases.later!.state === 'awaiting_agent');

    // The bad result: its check would take about a minute on the thread running it.
    const refused = timed(slow.complete(resultFor(slow, slowWaiting, 'agent', { name: `${'a'.repeat(34)}!` })));
    await new Promise((r) => setTimeout(r, 300));
    // Meanwhile both runs answer status at once, and the other run's valid result is accepted.
    const statusMs: number[] = [];
    for (let i = 0; i < 6; i++) {
      for (const run of [other, slow]) {
        const answered = await timed(run.status());
        expect(answered.error).toBeUndefined();
        statusMs.push(answered.ms);
      }
    }
    const accepted = await timed(other.complete(resultFor(other, otherWaiting, 'report', { report_path: 'out/report.md' })));
    expect(accepted.error).toBeUndefined();
    expect(accepted.value).toMatchObject({ accepted: true, phase: { state: 'completed' } });
    const bad = await refused;
    expect(accepted.at).toBeLessThan(bad.at); // while the bad result was being checked
    expect(Math.max(...statusMs)).toBeLessThan(1000);
    expect(accepted.ms).toBeLessThan(1500);

    // Refused once, with the reason, within the limit (2 s) and the round trips: not retried, not a minute.
    expect(String(bad.error)).toMatch(/output\.context: the output_schema check took longer than 2 s \(a pattern that backtracks\?\)/);
    expect(bad.ms).toBeLessThan(8000);
    expect(bad.ms).toBeGreaterThanOrEqual(1900);
    console.log(`output-schemas: refused in ${Math.round(bad.ms)} ms; status answered in ≤ ${Math.round(Math.max(...statusMs))} ms; the other run's result accepted in ${Math.round(accepted.ms)} ms`);

    // The run with the bad schema still answers, still waits, and takes a good result to the end.
    const after = await slow.status();
    expect(after.phases.agent!.state).toBe('awaiting_agent');
    await slow.complete(resultFor(slow, after, 'agent', { name: 'aaaa' }));
    const final = await slow.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['0']!.context!.context).toMatchObject({ value: 1 });
    expect(final.phases.agent!.context).toEqual({ context: { name: 'aaaa' }, artifacts: {} });
    expect(final.phases.after!.state).toBe('completed');

    // The other run can be aborted, and keeps what it had.
    await other.abort();
    const cancelled = await until(other, 'the abort', (s) => s.state === 'cancelled');
    expect(cancelled.phases['0']!.state).toBe('completed');
    expect(cancelled.phases.report!.state).toBe('completed');
    expect(cancelled.phases.report!.provenance).toMatchObject({ via: 'agent', agent: 'test-agent' });
  });

  it('a malformed output_schema is refused by baton run before any workflow exists', async () => {
    const dir = await tempDir();
    const plan = path.join(dir, 'plan.json');
    await writeFile(plan, JSON.stringify({ name: 'strnig', phases: [fixturePhase('train', [], {}, { use_separate_agent: true, output_schema: { type: 'strnig' } })] }));
    const started = await baton(['run', plan, '--no-wait']);
    expect(started.code).toBe(2);
    expect(started.stderr).toContain(
      'the plan "strnig" is not valid:\n  - phase "train": "output_schema" is not a valid JSON Schema (draft 2020-12): type: must be equal to one of the allowed values ("array", "boolean", "integer", "null", "number", "object", "string")',
    );
  });

  it('a malformed output_schema in a run started from the Temporal CLI fails it with InvalidPlan before any phase runs', async () => {
    const dir = await tempDir();
    const input = path.join(dir, 'run.json');
    const runId = `strnig-${Date.now()}`;
    await writeFile(
      input,
      JSON.stringify({
        plan: {
          name: 'strnig',
          workdir: dir,
          phases: [fixturePhase(0), fixturePhase('train', [0], {}, { use_separate_agent: true, output_schema: { type: 'object', properties: { loss: { type: 'strnig' } } } })],
        },
      }),
    );
    await temporal(['workflow', 'start', '--type', 'phasedRun', '--task-queue', 'baton', '--workflow-id', runId, '--input-file', input]);
    const handle = setup.orchestrator.client.workflow.getHandle(runId);
    for (let i = 0; i < 100 && (await handle.describe()).status.name === 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 200));
    expect((await handle.describe()).status.name).toBe('FAILED');
    await expect(handle.result()).rejects.toMatchObject({
      cause: {
        type: 'InvalidPlan',
        message:
          'the plan "strnig" is not valid:\n  - phase "train": "output_schema" is not a valid JSON Schema (draft 2020-12): properties.loss.type: must be equal to one of the allowed values ("array", "boolean", "integer", "null", "number", "object", "string")',
      },
    });
    const scheduled = (await handle.fetchHistory()).events!.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(scheduled).toEqual(['checkOutputSchemas']);
  });
});
