/**
 * A run's own files and what never happens to them: named per run, generation, dispatch and
 * attempt, made new rather than overwritten; and what a reset run does with what it learns.
 */
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_RUN_ENV } from '../../src/core/handoff/build.js';
import type { HandoffPackage } from '../../src/core/handoff/schema.js';
import { ContinuedSchema } from '../../src/core/api/run-input.js';
import { checkRun } from '../../src/core/plan/validate.js';
import { isResetRun } from '../../src/core/workflows/behaviour.js';
import { carry, restore } from '../../src/core/workflows/carry.js';
import { runStatus } from '../../src/core/workflows/projections.js';
import { RunBook } from '../../src/core/workflows/run-book.js';
import { attemptStem, claimAttemptLogs, commitOutput } from '../../src/runner/attempt-files.js';
import { writeFileNew } from '../../src/runner/handoff-files.js';
import { handoffsDirOf, runDirName, runPaths } from '../../src/runner/workdir.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'baton-run-files-'));
const pkg = (generation: number, builtIn?: string) =>
  ({ to_phase: 3, generation, execution_instructions: { env: builtIn ? { [BUILT_IN_RUN_ENV]: builtIn } : {} } }) as unknown as HandoffPackage;

describe("a run's files", () => {
  it('live under runs/<execution_id>, the id made a plain directory name', () => {
    expect(runPaths('/w', 'plan-1a2b').logs).toBe('/w/runs/plan-1a2b/logs');
    expect(runDirName('a/b c')).toBe('a_b_c');
    expect(runDirName('..')).toBe('_..');
    expect(runDirName('.')).toBe('_.');
  });

  it("are read from the run's directory, or from <workdir>/handoffs for a run from before runs had one", async () => {
    const workdir = await tmp();
    expect(handoffsDirOf(workdir, 'r')).toBe(path.join(workdir, 'runs/r/handoffs'));
    await mkdir(path.join(workdir, 'handoffs'));
    expect(handoffsDirOf(workdir, 'r')).toBe(path.join(workdir, 'handoffs'));
    await mkdir(path.join(workdir, 'runs/r/handoffs'), { recursive: true });
    expect(handoffsDirOf(workdir, 'r')).toBe(path.join(workdir, 'runs/r/handoffs'));
  });

  it('are named by phase, generation, dispatch, the Temporal run that dispatched a re-dispatch, and attempt', () => {
    expect(attemptStem(pkg(2), 1)).toBe('phase_3.g2.a1');
    expect(attemptStem(pkg(2), 3, { dispatch: 2 })).toBe('phase_3.g2.d2.a3');
    expect(attemptStem(pkg(1, 'run-a'), 1, { dispatchedIn: 'run-a' })).toBe('phase_3.g1.a1');
    // Built in run-a, dispatched by run-b: in flight when run-a was reset.
    expect(attemptStem(pkg(1, 'run-a'), 1, { dispatchedIn: 'run-b' })).toBe('phase_3.g1.run-run-b.a1');
    expect(attemptStem(pkg(1), 2, { compensate: true })).toBe('phase_3.g1.compensate.a2');
  });

  it('are made new: a taken name gives the next free one, and nothing is overwritten or appended to', async () => {
    const paths = runPaths(await tmp(), 'r');
    const first = await claimAttemptLogs(paths, 'phase_0.g1.a1');
    await writeFile(first.stderrPath, 'first\n');
    const second = await claimAttemptLogs(paths, 'phase_0.g1.a1');
    expect(second.stem).toBe('phase_0.g1.a1.2');
    expect(second.outputPath).toBe(path.join(paths.outputs, 'phase_0.g1.a1.2.json'));
    expect(await readFile(first.stderrPath, 'utf8')).toBe('first\n');
    expect(await readFile(second.stderrPath, 'utf8')).toBe('');

    const dir = path.join(paths.handoffs, 'attempts');
    await mkdir(dir, { recursive: true });
    expect(await writeFileNew(path.join(dir, 'phase_0.g1.a1.json'), 'one')).toBe(path.join(dir, 'phase_0.g1.a1.json'));
    expect(await writeFileNew(path.join(dir, 'phase_0.g1.a1.json'), 'two')).toBe(path.join(dir, 'phase_0.g1.a1.2.json'));
    expect(await readFile(path.join(dir, 'phase_0.g1.a1.json'), 'utf8')).toBe('one');
    expect((await readdir(dir)).sort()).toEqual(['phase_0.g1.a1.2.json', 'phase_0.g1.a1.json']); // no temporary file left
  });

  it("keep a phase's committed output from going back to an older generation", async () => {
    const paths = runPaths(await tmp(), 'r');
    await mkdir(paths.outputs, { recursive: true });
    await commitOutput(paths, '0', 2, JSON.stringify({ generation: 2 }));
    await commitOutput(paths, '0', 1, JSON.stringify({ generation: 1 })); // a copy a Reset left running
    expect(JSON.parse(await readFile(path.join(paths.outputs, 'phase_0.json'), 'utf8'))).toEqual({ generation: 2 });
    await commitOutput(paths, '0', 3, JSON.stringify({ generation: 3 }));
    expect(JSON.parse(await readFile(path.join(paths.outputs, 'phase_0.json'), 'utf8'))).toEqual({ generation: 3 });
  });
});

describe('a reset run', () => {
  it('is told apart from a first run and from a run that continued as new', () => {
    expect(isResetRun({ runId: 'a', originalExecutionRunId: 'a', firstExecutionRunId: 'a' })).toBe(false);
    expect(isResetRun({ runId: 'c2', originalExecutionRunId: 'c2', firstExecutionRunId: 'a', continuedFromExecutionRunId: 'a' })).toBe(false);
    // Live: the start event it copied names the run it replaced.
    expect(isResetRun({ runId: 'r', originalExecutionRunId: 'a', firstExecutionRunId: 'a' })).toBe(true);
    expect(isResetRun({ runId: 'r', originalExecutionRunId: 'c2', firstExecutionRunId: 'a', continuedFromExecutionRunId: 'a' })).toBe(true);
    // A recorded history replayed standalone with the reset run's id in its start event.
    expect(isResetRun({ runId: 'r', originalExecutionRunId: 'r', firstExecutionRunId: 'a' })).toBe(true);
  });

  it('starts phases beyond the generations the replaced runs used, says so, and carries that across continue-as-new', () => {
    const { plan, config } = checkRun({ name: 'r', phases: [{ id: 0, name: 'A', command: ['a'] }, { id: 1, name: 'B', depends_on: [0], command: ['b'] }] }, {});
    const book = new RunBook('run', plan, config, new Date(0));
    book.phase('0').start(new Date(1));
    const reset = { run_id: 'new', base_run_id: 'old', event_id: 24, reason: 'again', at: '1970-01-01T00:00:01.000Z' };
    const notice = book.noteReset(reset, { 0: 1, 1: 3, 9: 5 });
    expect(notice).toBe('reset (again): this run continues Temporal run old from its event 24; what that run did after it runs again here, as new generations of its phases');
    expect(book.phase('0').start(new Date(2)).generation).toBe(2);
    expect(book.phase('1').start(new Date(2)).generation).toBe(4);
    expect(runStatus(book, null).resets).toEqual([reset]);

    const { continued } = carry(book);
    expect(ContinuedSchema.parse(continued)).toEqual(continued);
    const next = new RunBook('run', plan, config, new Date(0));
    restore(next, continued);
    expect(next.resets).toEqual([reset]);
    expect(next.generationFloor('1')).toBe(3);
  });
});
