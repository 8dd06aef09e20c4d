/**
 * Every way validatePackage refuses a package, each with its message and its path in the package.
 * Real files in a temporary workdir; no Temporal needed.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { HandoffPackageSchema, type HandoffPackage } from '../../src/core/handoff/schema.js';
import { hmacKeyId, sealPackage, type VerifyKey } from '../../src/runner/signing.js';
import { validatePackage, type PackageProblem } from '../../src/runner/validate-package.js';

const secret = Buffer.from('unit-test-handoff-key-0123456789');
const key = { alg: 'hmac-sha256' as const, keyId: hmacKeyId(secret), secret };
const keys: VerifyKey[] = [key];
const report = 'phase one report\n';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let workdir: string;

beforeEach(async () => {
  workdir = await mkdtemp(path.join(os.tmpdir(), 'baton-validate-'));
  await mkdir(path.join(workdir, 'out'));
  await writeFile(path.join(workdir, 'out/report.txt'), report);
});

function unsealed(): HandoffPackage {
  return HandoffPackageSchema.parse({
    schema_version: 1,
    execution_id: 'run-1',
    plan_name: 'p',
    from_phase: 1,
    to_phase: 2,
    phase_name: 'Two',
    previous_phase_context: { context: { n: 1 }, artifacts: {} },
    dependency_contexts: { '1': { context: { n: 1 }, artifacts: { report: { path: 'out/report.txt', sha256: sha(report), size: report.length } } } },
    shared_artifacts: {},
    global_context: { repo: '.' },
    state_summary: { '1': { name: 'One', state: 'completed', attempts: 1 }, '2': { name: 'Two', state: 'running', attempts: 0 } },
    run_summary: { phases: 2, by_state: { completed: 1, running: 1 } },
    execution_instructions: {
      mode: 'inline', workdir, base_dir: null, command: ['true'], handler: null, task_queue: 'baton-default',
      save_handoff: true, on_handoff_failure: 'fail', timeout_s: 60, retries: 0, env: {}, report: 'r',
    },
    phase_config: {},
    safe_keys: [],
    generation: 1,
    attempt: 1,
    depends_on: [1],
    created_at: '2026-01-01T00:00:00.000Z',
    content_hash: null,
    signature: null,
  });
}

const sealed = (pkg = unsealed()) => sealPackage(pkg, key);

async function problems(json: unknown, opts: { allowUnsigned?: boolean } = {}): Promise<PackageProblem[]> {
  return (await validatePackage(json, { keys, ...opts })).problems;
}

describe('validatePackage', () => {
  it('accepts a sealed package whose dependencies and files are all there', async () => {
    expect(await problems(sealed())).toEqual([]);
  });

  it('refuses a package that is not one, with the paths of the bad fields', async () => {
    const bad = { ...sealed(), to_phase: -3, execution_id: 7 };
    const found = await problems(bad);
    expect(found.map((p) => p.path).sort()).toEqual(['execution_id', 'to_phase']);
  });

  it('names a bad field under a phase-keyed record the same way as every other package problem', async () => {
    const pkg = sealed();
    const bad = { ...pkg, dependency_contexts: { '1': { ...pkg.dependency_contexts['1']!, artifacts: { report: { path: 'out/report.txt', sha256: 5, size: 1 } } } } };
    const found = await problems(bad);
    expect(found.map((p) => p.path)).toEqual(['dependency_contexts["1"].artifacts.report.sha256']);
  });

  it('refuses a field this version does not know', async () => {
    const found = await problems({ ...sealed(), surprise: true });
    expect(found[0]!.message).toMatch(/surprise/);
  });

  it('refuses a package with one byte changed', async () => {
    const text = JSON.stringify(sealed()).replace('"repo":"."', '"repo":","');
    expect(await problems(JSON.parse(text))).toEqual([
      { path: 'signature', message: "content_hash does not match the package's content: it was changed after it was sealed" },
    ]);
  });

  it('refuses an unsigned package unless told to allow it', async () => {
    const pkg = sealPackage(unsealed(), undefined);
    expect((await problems(pkg))[0]).toEqual({
      path: 'content_hash',
      message: 'the package has no signature; sign it on a worker with BATON_HANDOFF_KEY set, or pass --allow-unsigned to run it anyway',
    });
    expect(await problems(pkg, { allowUnsigned: true })).toEqual([]);
  });

  it('refuses a package signed with a key it does not know', async () => {
    const other = Buffer.from('some-other-key-entirely-987654321');
    const pkg = sealPackage(unsealed(), { alg: 'hmac-sha256', keyId: hmacKeyId(other), secret: other });
    const [found] = await problems(pkg);
    expect(found!.path).toBe('signature');
    expect(found!.message).toMatch(/^signed with key hmac:[0-9a-f]{16} which is not configured here; set BATON_HANDOFF_KEY/);
  });

  it('refuses a missing dependency output', async () => {
    const pkg = unsealed();
    pkg.dependency_contexts = {};
    expect(await problems(sealed(pkg))).toEqual([
      { path: 'dependency_contexts["1"]', message: 'missing: phase 2 depends on phase 1, but its output is not in the package' },
    ]);
  });

  it('refuses a dependency that is not completed', async () => {
    const pkg = unsealed();
    pkg.state_summary['1']!.state = 'failed';
    expect(await problems(sealed(pkg))).toEqual([
      { path: 'state_summary["1"].state', message: 'phase 2 depends on phase 1, which is failed; run phase 1 first' },
    ]);
  });

  it('refuses a referenced file that is missing', async () => {
    const pkg = unsealed();
    pkg.dependency_contexts['1']!.artifacts.report!.path = 'out/gone.txt';
    expect(await problems(sealed(pkg))).toEqual([
      { path: 'dependency_contexts["1"].artifacts.report', message: `out/gone.txt does not exist in the workdir ${workdir}; copy the run's workdir here, or pass --workdir`, file: 'missing' },
    ]);
  });

  it('refuses a referenced file that changed', async () => {
    await writeFile(path.join(workdir, 'out/report.txt'), 'tampered\n');
    const [found] = await problems(sealed());
    expect(found!.path).toBe('dependency_contexts["1"].artifacts.report');
    expect(found!.file).toBe('changed');
    expect(found!.message).toMatch(/^out\/report\.txt has changed since it was recorded \(sha256 [0-9a-f]{12}…, expected [0-9a-f]{12}…\); re-run the phase that produced it$/);
  });

  it('refuses a path that escapes the workdir, through .. or a symlink', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'baton-outside-'));
    await writeFile(path.join(outside, 'x'), report);
    await symlink(outside, path.join(workdir, 'link'));
    for (const escape of ['../x', 'link/x']) {
      const pkg = unsealed();
      pkg.dependency_contexts['1']!.artifacts.report!.path = escape;
      const [found] = await problems(sealed(pkg));
      expect(found!.path).toBe('dependency_contexts["1"].artifacts.report');
      expect(found!.message).toMatch(/outside the workdir .*; paths in a package stay inside the workdir$/);
    }
  });

  it('refuses a package whose workdir is not on this machine', async () => {
    const pkg = unsealed();
    pkg.execution_instructions.workdir = '/nonexistent/baton-wd';
    expect(await problems(sealed(pkg))).toEqual([
      { path: 'execution_instructions.workdir', message: "the workdir /nonexistent/baton-wd does not exist on this machine; copy the run's workdir here, or pass --workdir" },
    ]);
  });

  it('refuses a package that carries credentials, naming where', async () => {
    const pkg = unsealed();
    pkg.global_context = { deploy: { aws_key: ['AKIA', 'IOSFODNN7EXAMPLE'].join('') } };
    const found = await problems(sealed(pkg));
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe('global_context.deploy.aws_key');
    expect(found[0]!.message).toMatch(/^an AWS access key id \(AKIA…\); remove it from the package/);
  });

  it('checks a large context value stored by reference', async () => {
    const value = JSON.stringify('x'.repeat(100));
    await mkdir(path.join(workdir, 'context-store/ab'), { recursive: true });
    await writeFile(path.join(workdir, 'context-store/ab/v.json'), value);
    const pkg = unsealed();
    pkg.dependency_contexts['1']!.context.big = { $baton_ref: { sha256: sha(value), size: value.length, path: 'context-store/ab/v.json' } };
    expect(await problems(sealed(pkg))).toEqual([]);
    await writeFile(path.join(workdir, 'context-store/ab/v.json'), '"changed"');
    expect((await problems(sealed(pkg)))[0]!.path).toBe('dependency_contexts["1"].context.big');
  });

  it('lists every problem at once', async () => {
    const pkg = unsealed();
    pkg.dependency_contexts = {};
    pkg.state_summary['1']!.state = 'running';
    pkg.global_context = { token: 'hunter2hunter2' };
    expect(await problems(sealed(pkg))).toHaveLength(3);
  });
});
