/**
 * Handoff packages on a real server: sealed and signed by the worker, every attempt kept,
 * validated before anyone runs them, large outputs by reference, the guide's fallback, doctor.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { HandoffPackageSchema } from '../../src/core/handoff/schema.js';
import { baton, fixturePhase, runDir, tempDir, workerForFile } from '../support/baton.js';

const KEY = 'integration-test-handoff-key-0123456789';
const signed = { BATON_HANDOFF_KEY: KEY };
const setup = workerForFile([], signed);

async function historyBytes(runId: string): Promise<number> {
  const history = await setup.orchestrator.client.workflow.getHandle(runId).fetchHistory();
  return proto.temporal.api.history.v1.History.encode(history).finish().length;
}

describe('handoff packages', () => {
  it('are signed, kept for every attempt, listed, shown, validated, and run by hand', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'signed',
      workdir,
      phases: [fixturePhase(0), fixturePhase(1, [0], { fail_until_attempt: 2 }, { retries: 1 })],
    });
    const status = await run.finalStatus();
    expect(status.state).toBe('completed');

    const list = await baton(['handoff', 'list', run.runId, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as Array<{ phase: string; attempt: number; signed_by: string; content_hash: string }>;
    expect(rows.map((r) => `${r.phase}.a${r.attempt}`).sort()).toEqual(['0.a1', '1.a1', '1.a2']);
    expect(rows.every((r) => r.signed_by.startsWith('hmac:'))).toBe(true);
    expect(status.phases['1']!.content_hash).toBe(rows.find((r) => r.phase === '1' && r.attempt === 2)!.content_hash);

    const show = await baton(['handoff', 'show', run.runId, '1']);
    const latest = HandoffPackageSchema.parse(JSON.parse(show.stdout));
    expect(latest.attempt).toBe(2);
    expect(Object.keys(latest.dependency_contexts)).toEqual(['0']);

    const file = path.join(runDir(workdir, run.runId), 'handoffs', 'phase_1.json');
    expect((await baton(['handoff', 'validate', file], { env: signed })).code).toBe(0);
    const noKey = await baton(['handoff', 'validate', file]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/signature: signed with key hmac:[0-9a-f]{16} which is not configured here/);

    // One byte changed: refused by validate and by execute-phase, nothing runs.
    const text = await readFile(file, 'utf8');
    const tampered = path.join(workdir, 'tampered.json');
    await writeFile(tampered, text.replace('"phase_name": "Phase 1"', '"phase_name": "Phase 7"'));
    const refused = await baton(['execute-phase', tampered, '--out', path.join(workdir, 'never.json')], { env: signed });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("content_hash does not match the package's content: it was changed after it was sealed");
    expect(existsSync(path.join(workdir, 'never.json'))).toBe(false);

    // Unsigned: refused unless --allow-unsigned.
    const unsigned = path.join(workdir, 'unsigned.json');
    await writeFile(unsigned, JSON.stringify({ ...JSON.parse(text), signature: null }));
    const noSig = await baton(['execute-phase', unsigned], { env: signed });
    expect(noSig.code).toBe(2);
    expect(noSig.stderr).toContain('the package has no signature');

    // A worker's package run offline writes the phase's output, and says it is no result to submit.
    const offlineOut = path.join(workdir, 'offline-output.json');
    const offline = await baton(['execute-phase', file, '--offline', '--out', offlineOut], { env: signed });
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stderr).toContain(`${offlineOut} is phase 1's output from a worker's package (generation 1), not a result: there is nothing to submit`);
    expect(JSON.parse(await readFile(offlineOut, 'utf8'))).toMatchObject({ context: { dependency_keys: ['0'] } });

    // The real thing runs here, by hand, and reports the package it ran from.
    const out = path.join(workdir, 'result.json');
    const ran = await baton(['execute-phase', unsigned, '--allow-unsigned', '--out', out]);
    expect(ran.code, ran.stderr).toBe(0);
    const result = JSON.parse(await readFile(out, 'utf8'));
    expect(result.context.dependency_keys).toEqual(['0']);
    expect(result.content_hash).toBe(latest.content_hash);
  });

  it('keep a 20 MB output out of history; the dependant still reads all of it', async () => {
    const plan = (bytes: number) => ({
      name: `big-${bytes}`,
      workdir: '',
      phases: [fixturePhase(0, [], bytes ? { output_bytes: bytes } : {}), fixturePhase(1, [0])],
    });
    const baseline = await setup.orchestrator.start({ ...plan(0), workdir: await tempDir() });
    const big = await setup.orchestrator.start({ ...plan(20_000_000), workdir: await tempDir() });
    const [baseStatus, bigStatus] = await Promise.all([baseline.finalStatus(), big.finalStatus()]);
    expect(bigStatus.state).toBe('completed');
    expect(bigStatus.phases['1']!.context!.context.dependency_blob_lengths).toEqual({ '0': 20_000_000 });
    expect(baseStatus.phases['1']!.context!.context.dependency_blob_lengths).toEqual({ '0': null });
    const added = (await historyBytes(big.runId)) - (await historyBytes(baseline.runId));
    expect(added).toBeLessThan(8 * 1024);
  });

  it('keep mid-size outputs by reference too, so no output costs history more than the inline budget', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({ name: 'mid', workdir, phases: [fixturePhase(0, [], { output_bytes: 30_000 }), fixturePhase(1, [0])] });
    const status = await run.finalStatus();
    expect(status.phases['1']!.context!.context.dependency_blob_lengths).toEqual({ '0': 30_000 });
    // In the status (and history) phase 0's blob is a reference; the small values beside it stay inline.
    const out = status.phases['0']!.context!.context;
    expect(out.blob).toMatchObject({ $baton_ref: { size: 30_002 } });
    expect(out.phase).toBe('0');
    expect(JSON.stringify(out).length).toBeLessThan(1024 + 200);
  });

  it('with agent_handoff_enabled false, write no files and still run; doctor says why', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({ name: 'no-files', workdir, phases: [fixturePhase(0), fixturePhase(1, [0])] }, { agent_handoff_enabled: false });
    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    expect(status.phases['1']!.context!.context.dependency_keys).toEqual(['0']);
    expect(existsSync(path.join(runDir(workdir, run.runId), 'handoffs'))).toBe(false);
    const doctor = await baton(['doctor', run.runId]);
    expect(doctor.stdout).toContain('no handoff files are written: agent_handoff_enabled is false');
  });

  it('fall back to inline when the package cannot be saved, and record why', async () => {
    const workdir = await tempDir();
    const runId = `fallback-${Date.now()}`;
    await mkdir(runDir(workdir, runId), { recursive: true });
    await writeFile(path.join(runDir(workdir, runId), 'handoffs'), 'a file where the handoffs directory should be');
    const run = await setup.orchestrator.start({ name: 'fallback', workdir, phases: [fixturePhase(0)] }, { on_handoff_failure: 'inline' }, { runId });
    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    expect(status.phases['0']!.handoff_fallback).toMatch(/^the package of phase 0 \(Phase 0\) could not be sealed and saved: .*; ran inline from memory instead \(on_handoff_failure: inline\)$/);
  });

  it('fail the phase with the reason under on_handoff_failure "fail"', async () => {
    const workdir = await tempDir();
    const runId = `no-fallback-${Date.now()}`;
    await mkdir(runDir(workdir, runId), { recursive: true });
    await writeFile(path.join(runDir(workdir, runId), 'handoffs'), 'not a directory');
    const run = await setup.orchestrator.start({ name: 'no-fallback', workdir, phases: [fixturePhase(0)] }, { on_handoff_failure: 'fail', failed_phase_policy: 'fail' }, { runId });
    const status = await run.finalStatus();
    expect(status.state).toBe('failed');
    expect(status.phases['0']!.error).toMatch(/^the package of phase 0 \(Phase 0\) could not be sealed and saved/);
    expect(status.phases['0']!.attempts).toBe(1); // not retried: retrying cannot help
  });

  it('refuse to run a phase on a dependency file that changed after it was recorded', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'changed-input',
      workdir,
      phases: [
        fixturePhase(0, [], { artifact: 'report' }),
        { id: 'meddle', name: 'Meddle', depends_on: [0], command: ['sh', '-c', 'echo changed >> "$BATON_WORKDIR/artifacts/0.txt"'] },
        fixturePhase(1, [0, 'meddle']),
      ],
    }, { failed_phase_policy: 'fail' });
    const status = await run.finalStatus();
    expect(status.phases['1']!.state).toBe('failed');
    expect(status.phases['1']!.attempts).toBe(1);
    expect(status.phases['1']!.error).toMatch(/^phase 1 \(Phase 1\) cannot run: dependency_contexts\["0"\]\.artifacts\.report: artifacts\/0\.txt has changed since it was recorded/);
  });

  it('doctor explains a phase waiting on a failed one and a file gone missing', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'doctor',
      workdir,
      phases: [fixturePhase(0, [], { output_bytes: 100_000 }), fixturePhase(1, [0], { fail_always: 'broken on purpose' }), fixturePhase(2, [1])],
    });
    for (let i = 0; i < 100 && (await run.status()).state !== 'held'; i++) await new Promise((r) => setTimeout(r, 200));
    const waiting = await baton(['doctor', run.runId, '--phase', '2'], { env: signed });
    expect(waiting.code).toBe(1);
    expect(waiting.stdout).toContain('✗ phase 2 (Phase 2) has no handoff yet: it waits for phase 1 (failed)');
    expect(waiting.stdout).toContain(`→ retry or skip the failed phase: baton retry ${run.runId} 1`);

    // Phase 0's large output went to the context store; remove it and phase 1's package can no longer run.
    const status = await run.status();
    const ref = (status.phases['0']!.context!.context.blob as { $baton_ref: { path: string } }).$baton_ref;
    await writeFile(path.join(workdir, ref.path), '"something else"');
    const broken = await baton(['doctor', run.runId, '--phase', '1'], { env: signed });
    expect(broken.stdout).toMatch(/✗ phase 1 \(Phase 1\)'s package: dependency_contexts\["0"\]\.context\.blob: context-store\/.* has changed since it was recorded/);
    expect(broken.stdout).toContain('✗ phase 1 (Phase 1) failed after 1 attempt(s): phase 1 (Phase 1) exited with code 1: broken on purpose');
    await run.abort();
  });
});
