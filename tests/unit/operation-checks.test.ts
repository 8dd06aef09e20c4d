/**
 * The operation updates' validators: each bad request is refused with what is wrong and what to do
 * instead, in the words the Web UI's update dialog, `temporal workflow update execute` and `baton`
 * show.
 */
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/core/api/messages.js';
import { checkRun } from '../../src/core/plan/validate.js';
import { handProblem, markDoneProblem, noInputProblem, retryProblem, skipProblem } from '../../src/core/workflows/operation-checks.js';
import { RunBook } from '../../src/core/workflows/run-book.js';

function book(phases = 3) {
  const { plan, config } = checkRun(
    {
      name: 'ops',
      workdir: '/tmp/ops',
      phases: Array.from({ length: phases }, (_, i) => ({ id: i + 1, name: `P${i + 1}`, depends_on: i === 0 ? [] : [i], command: ['x'] })),
    },
    {},
  );
  return new RunBook('run', plan, config, new Date(0));
}

const done = { output: { context: {}, artifacts: {} }, attempts: 1, executedBy: 'w', startedAt: 'a', finishedAt: 'b', contentHash: null, handoffPath: null, handoffFallback: null };

/** Phase 1 failed, 2 and 3 wait for it. */
function held() {
  const b = book();
  b.phase('1').start(new Date(1));
  b.phase('1').fail('boom', 1, 'w', new Date(2));
  return b;
}

const output = (context: Record<string, unknown> = {}, artifacts: Record<string, string> = {}) => ({ context, artifacts });

describe('operation updates refuse a bad request, saying what to do', () => {
  it('an unknown phase: names the phases there are', () => {
    const b = held();
    expect(retryProblem(b, { phase: 7 })).toBe('retryPhase: no phase 7; phases are 1, 2, 3');
    expect(skipProblem(b, { phase: 7 })).toBe('skipPhase: no phase 7; phases are 1, 2, 3');
    expect(markDoneProblem(b, { phase: 7, output: output() })).toBe('markPhaseDone: no phase 7; phases are 1, 2, 3');
    expect(handProblem(b, { phase: 7, to: 'agent' })).toBe('handPhase: no phase 7; phases are 1, 2, 3');
  });

  it('a plan of many phases: the first twenty, and how many', () => {
    expect(retryProblem(book(500), { phase: 'x' })).toBe(
      'retryPhase: no phase x; phases are 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, … (500 in all; `baton status <run> --all` lists them)',
    );
  });

  it('retryPhase: a phase that has not run names the failed dependency to retry instead', () => {
    expect(retryProblem(held(), { phase: 2 })).toBe(
      'retryPhase: phase 2 is pending; only a failed, completed or skipped phase can be retried: it has not run yet: it waits for phase 1, which failed; retry or skip that one (retryPhase {"phase": 1})',
    );
    expect(retryProblem(held(), { phase: 1 })).toBeUndefined();
  });

  it('retryPhase: a running phase, an undeclared class, credentials in an override', () => {
    const b = book();
    b.phase('1').start(new Date(1));
    expect(retryProblem(b, { phase: 1 })).toBe('retryPhase: phase 1 is running; only a failed, completed or skipped phase can be retried: it is running (generation 1); wait for it to finish or fail, or abort the run');
    expect(retryProblem(held(), { phase: 1, resource_class: 'tpu' })).toBe('retryPhase: resource class "tpu" is not declared; use one of: default, gpu');
    expect(retryProblem(held(), { phase: 1, config: { api_key: 'sk-live-0123456789abcdef0123456789' } })).toMatch(/^retryPhase: its overrides carry credentials, which never enter the run's history: config\.api_key: /);
  });

  it('skipPhase: a completed phase is retried, not skipped', () => {
    const b = book();
    b.phase('1').start(new Date(1));
    b.phase('1').complete(done);
    expect(skipProblem(b, { phase: 1 })).toBe('skipPhase: phase 1 is completed; only a pending, ready or failed phase can be skipped: it has completed; to run it again, send retryPhase {"phase": 1}');
    expect(skipProblem(b, { phase: 2 })).toBeUndefined();
  });

  it('markPhaseDone: only a failed phase or one awaiting an agent; paths stay in the workdir; no credentials', () => {
    const b = held();
    expect(markDoneProblem(b, { phase: 1, output: output({ rows: 3 }) })).toBeUndefined();
    expect(markDoneProblem(b, { phase: 2, output: output() })).toBe(
      'markPhaseDone: phase 2 is pending; only a failed phase or one awaiting an agent can be marked done: it has not run yet: it waits for phase 1, which failed; retry or skip that one (retryPhase {"phase": 1}); skipPhase {"phase": 2} moves past a phase that has not run',
    );
    expect(markDoneProblem(b, { phase: 1, output: output({}, { report: '../../etc/passwd' }) })).toBe(
      'markPhaseDone: output.artifacts.report: "../../etc/passwd" is outside the run\'s workdir; give a path relative to the workdir (/tmp/ops), without ".."',
    );
    expect(markDoneProblem(b, { phase: 1, output: output({ big: { $baton_ref: { sha256: 'a'.repeat(64), size: 9, path: '../../x' } } }) })).toBe(
      'markPhaseDone: output.context.big: give the value itself, not a reference into the context store; Baton stores values over 1 KiB by reference itself',
    );
    expect(markDoneProblem(b, { phase: 1, output: output({ password: 'hunter2hunter2' }) })).toMatch(/^markPhaseDone: the output carries credentials, which never enter the run's history: output\.context\.password: /);
    const awaiting = book();
    awaiting.phase('1').start(new Date(1), true);
    awaiting.phase('1').awaitAgent({ since: 'a', deadline: null, package_hash: 'sha256:x', handoff_path: '/h/phase_1.json', script_path: '/h/execute_phase_1.sh' });
    expect(markDoneProblem(awaiting, { phase: 1, output: output() })).toBeUndefined();
  });

  it('handPhase: a running phase cannot be handed; an agent phase can go back to a worker, not to an agent again', () => {
    const b = book();
    expect(handProblem(b, { phase: 2, to: 'agent' })).toBeUndefined();
    b.phase('1').start(new Date(1));
    expect(handProblem(b, { phase: 1, to: 'agent' })).toBe(
      'handPhase: phase 1 is running on a worker (generation 1); only a phase that waits (pending, or awaiting an agent) or failed can be handed to an agent: wait for it to finish or fail, or abort the run',
    );
    const a = book();
    a.phase('1').start(new Date(1), true);
    a.phase('1').awaitAgent({ since: 'a', deadline: null, package_hash: 'sha256:x', handoff_path: '/h/phase_1.json', script_path: '/h/execute_phase_1.sh' });
    expect(handProblem(a, { phase: 1, to: 'worker' })).toBeUndefined();
    expect(handProblem(a, { phase: 1, to: 'agent' })).toBe('handPhase: phase 1 is already awaiting an agent (its package: /h/phase_1.json); nothing to hand');
  });

  it('pause and resume take no input', () => {
    expect(noInputProblem('pause', undefined)).toBeUndefined();
    expect(noInputProblem('pause', null)).toBeUndefined();
    expect(noInputProblem('resume', {})).toBeUndefined();
    expect(noInputProblem('pause', { reason: 'lunch' })).toBe('pause: takes no input (send nothing, or {}), got {"reason":"lunch"}');
  });

  it('the requests themselves: shape, unknown keys, bounds', () => {
    const bad = parseMessage('handPhase', { phase: 1, to: 'robot' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^handPhase: .*"to".*; expected \{"phase": <id>, "to": "agent" \| "worker"\}/);
    const typo = parseMessage('markPhaseDone', { phase: 1, output: { context: {}, artefacts: {} } });
    expect(!typo.ok && typo.error).toMatch(/unknown key "artefacts" in "output"; did you mean "artifacts"\?/);
    const long = parseMessage('markPhaseDone', { phase: 1, output: { context: {} }, reason: 'r'.repeat(5000) });
    expect(!long.ok && long.error).toBe('markPhaseDone: "reason" is 5,000 characters long; at most 1,000: say why in a line');
    const ok = parseMessage('markPhaseDone', { phase: 1, output: { context: { a: 1 } } });
    expect(ok.ok && ok.value.output).toEqual({ context: { a: 1 }, artifacts: {} });
  });
});
