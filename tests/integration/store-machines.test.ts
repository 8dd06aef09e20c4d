/**
 * Machines that share nothing but Temporal and an S3 bucket (issue 16). The orchestrator worker and
 * two phase workers each run in a private mount namespace (`unshare -m`) with an empty tmpfs over
 * the test's directory, which holds the plan, its workdir and every worker's cache: none of them sees
 * another's files, or the submitting machine's. Each phase worker runs commands from a code root of
 * its own (`--root`). The plan passes artifacts and context values over 1 KiB from one machine to the
 * other and back, and its shared artifact reaches both from `baton run` on the submitting machine.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Orchestrator } from '../../src/client/orchestrator.js';
import { configuredStore, executionContextKey } from '../../src/runner/store/sync.js';
import { contentKey } from '../../src/runner/store/store.js';
import { logTail, phaseLogs, phasePackage } from '../../src/web/run-files.js';
import { FIXTURES, tempDir, testClient, until, workersPerTest } from '../support/baton.js';
import { s3StoreEnv, storeTestDir, useS3Server } from '../support/s3-server.js';

const s3 = useS3Server();
const worker = workersPerTest();
const RELAY = path.join(FIXTURES, 'store-machines/relay.mjs');
const BYTES = 300_000;
// Every machine's files, hidden from each worker by its own tmpfs.
const files = storeTestDir('baton-machines-');
let machines: string;
let env: Record<string, string>;

/** The bytes relay.mjs writes for a phase. */
function expectedBytes(phase: number): Buffer {
  const bytes = Buffer.alloc(BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + phase * 7) & 0xff;
  return bytes;
}
const sha = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** A worker on a machine of its own: private mounts, its own cache and code root inside them. */
async function machine(name: string, args: string[]): Promise<void> {
  await worker(args, { ...env, BATON_TEST_PRIVATE_DIR: machines, BATON_WORKER_NAME: name, BATON_CACHE: path.join(machines, name, 'cache') });
}

beforeAll(() => {
  machines = files.path;
  // After useS3Server's beforeAll, which found the server.
  env = s3StoreEnv(s3, `machines-${process.pid}`);
});

describe('workers on machines that share only Temporal and the store', () => {
  it('run a plan whose phases hand artifacts and large values to each other across machines, every hash checked', async () => {
    // Code roots outside the hidden directory, one per machine, as each machine's checkout of the code.
    const roots: Record<string, string> = {};
    for (const name of ['machine-a', 'machine-b']) {
      roots[name] = await tempDir(`baton-root-${name}-`);
      await copyFile(RELAY, path.join(roots[name], 'relay.mjs'));
    }
    await machine('orchestrator', ['--orchestrator']);
    await machine('machine-a', ['--class', 'default', '--root', roots['machine-a']!]);
    await machine('machine-b', ['--class', 'gpu', '--root', roots['machine-b']!]);

    // The submitting machine: this process, which sees the plan and its shared artifact.
    const planDir = path.join(machines, 'plan');
    await mkdir(path.join(planDir, 'work', 'inputs'), { recursive: true });
    await writeFile(path.join(planDir, 'work', 'inputs', 'seed.txt'), 'seed from the submitting machine');
    Object.assign(process.env, env);
    const phase = (id: number, cls: string, deps: number[]) => ({ id, name: `Relay ${id}`, resource_class: cls, depends_on: deps, command: ['node', 'relay.mjs'], config: { bytes: BYTES } });
    const run = await new Orchestrator(await testClient()).start({
      name: 'shared-nothing',
      base_dir: planDir,
      workdir: 'work',
      shared_artifacts: { seed: 'inputs/seed.txt' },
      phases: [phase(1, 'default', []), phase(2, 'gpu', [1]), phase(3, 'default', [2]), phase(4, 'gpu', [1, 3])],
    });
    const final = await run.finalStatus();
    expect(final.state, JSON.stringify(final.phases)).toBe('completed');

    // Each phase ran where its class lives, from that machine's code root.
    const ran = Object.fromEntries(Object.entries(final.phases).map(([k, p]) => [k, p.executed_by]));
    expect(ran).toEqual({ 1: 'machine-a', 2: 'machine-b', 3: 'machine-a', 4: 'machine-b' });
    const store = configuredStore()!;
    const outputs: Record<string, { context: Record<string, unknown>; artifacts: Record<string, { sha256: string; size: number }> }> = {};
    for (const key of ['1', '2', '3', '4']) {
      const text = (await store.get(`runs/${run.runId}/outputs/phase_${key}.json`)).toString('utf8');
      outputs[key] = JSON.parse(text) as (typeof outputs)[string];
    }
    expect(outputs['2']!.context.cwd).toBe(roots['machine-b']);
    expect(outputs['3']!.context.cwd).toBe(roots['machine-a']);

    // Every artifact is in the store by its hash, and is the bytes the phase wrote.
    for (const key of ['1', '2', '3', '4']) {
      const ref = outputs[key]!.artifacts.data!;
      expect(ref.sha256).toBe(sha(expectedBytes(Number(key))));
      expect(sha(await store.getContent(ref.sha256))).toBe(ref.sha256);
      expect(await store.head(contentKey(ref.sha256))).toMatchObject({ size: BYTES });
    }
    // What each phase read on its machine had the hash its producer recorded on the other.
    const seen = (key: string) => outputs[key]!.context.seen as Record<string, string>;
    expect(seen('2')['1.data']).toBe(outputs['1']!.artifacts.data!.sha256);
    expect(seen('3')['2.data']).toBe(outputs['2']!.artifacts.data!.sha256);
    expect(seen('4')).toMatchObject({ '1.data': outputs['1']!.artifacts.data!.sha256, '3.data': outputs['3']!.artifacts.data!.sha256 });
    const note = (key: string, on: string) => `phase ${key} on ${on}: ${'n'.repeat(2000)}`;
    expect(seen('2')['1.note']).toBe(sha(note('1', 'machine-a')));
    expect(seen('3')['2.note']).toBe(sha(note('2', 'machine-b')));
    expect(seen('4')['3.note']).toBe(sha(note('3', 'machine-a')));
    // The notes travelled by reference (over 1 KiB), so through the store too.
    expect(final.phases['1']!.context?.context.note).toMatchObject({ $baton_ref: { size: Buffer.byteLength(JSON.stringify(note('1', 'machine-a'))) } });
    // The shared artifact reached both machines from the submitting one.
    for (const key of ['1', '2']) expect(outputs[key]!.context.shared).toBe('seed from the submitting machine');

    // Logs, packages and execution_context.json are in the store; the submitting machine's workdir has none of the phases' files.
    const keys: string[] = [];
    for await (const o of store.list(`runs/${run.runId}/`)) keys.push(o.key);
    expect(keys.filter((k) => k.includes('/logs/') && k.endsWith('.stderr.log'))).toHaveLength(4);
    expect(keys.filter((k) => /\/handoffs\/attempts\/phase_\d\.g1\.a1\.json$/.test(k))).toHaveLength(4);
    await expect.poll(async () => (await store.head(executionContextKey(run.runId)))?.size ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
    // baton ui, on the submitting machine, shows the phases' logs and packages from the store.
    const logs = await phaseLogs(final, '2');
    expect(logs.files.map((f) => f.name).sort()).toEqual(['phase_2.g1.a1.stderr.log', 'phase_2.g1.a1.stdout.log']);
    expect(await logTail(final, '2', 'phase_2.g1.a1.stderr.log')).toMatchObject({ name: 'phase_2.g1.a1.stderr.log', size: 0, text: '' });
    expect((await phasePackage(final, '2')).package).toMatchObject({ execution_id: run.runId, to_phase: 2 });
    expect(existsSync(path.join(planDir, 'work', 'data'))).toBe(false);
    expect(await readdir(path.join(planDir, 'work'))).toEqual(['inputs']);
  }, 180_000);

  it("use the store the run's config names, with no BATON_STORE on any machine", async () => {
    const { BATON_STORE: location, ...credentials } = env;
    const store = `${location}-by-config`;
    const root = await tempDir('baton-root-config-');
    await copyFile(RELAY, path.join(root, 'relay.mjs'));
    // The machines have the credentials (as they would from their roles) but no BATON_STORE.
    const bare = { ...credentials, BATON_STORE: '', BATON_TEST_PRIVATE_DIR: machines };
    await worker(['--orchestrator'], { ...bare, BATON_WORKER_NAME: 'orchestrator-2' });
    await worker(['--class', 'default', '--root', root], { ...bare, BATON_WORKER_NAME: 'machine-c', BATON_CACHE: path.join(machines, 'c', 'cache') });
    await worker(['--class', 'gpu', '--root', root], { ...bare, BATON_WORKER_NAME: 'machine-d', BATON_CACHE: path.join(machines, 'd', 'cache') });
    delete process.env.BATON_STORE;
    const phase = (id: number, cls: string, deps: number[]) => ({ id, name: `Relay ${id}`, resource_class: cls, depends_on: deps, command: ['node', 'relay.mjs'], config: { bytes: 5000 } });
    const run = await new Orchestrator(await testClient()).start(
      { name: 'config-store', base_dir: path.join(machines, 'plan-2'), workdir: 'work', phases: [phase(1, 'default', []), phase(2, 'gpu', [1])] },
      { store },
    );
    const final = await run.finalStatus();
    expect(final.state, JSON.stringify(final.phases)).toBe('completed');
    expect(final.store).toBe(store);
    expect(final.phases['2']!.executed_by).toBe('machine-d');
    const stored = configuredStore(store)!;
    const output = JSON.parse((await stored.get(`runs/${run.runId}/outputs/phase_2.json`)).toString('utf8')) as { context: { seen: Record<string, string> } };
    expect(output.context.seen['1.data']).toBe(final.phases['1']!.context!.artifacts.data!.sha256);
    await expect.poll(async () => (await stored.head(executionContextKey(run.runId)))?.size ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
  }, 120_000);

  it('an unreachable store interrupts a phase without spending its retries, and it completes once a worker reaches the store', async () => {
    const root = await tempDir('baton-root-outage-');
    await copyFile(RELAY, path.join(root, 'relay.mjs'));
    await worker(['--orchestrator'], env);
    // A worker whose store is unreachable (nothing listens on port 9 here).
    const cut = await worker(['--class', 'default', '--root', root], { ...env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', BATON_WORKER_NAME: 'cut-off', BATON_CACHE: path.join(machines, 'cut', 'cache') });
    Object.assign(process.env, env);
    const run = await new Orchestrator(await testClient()).start(
      { name: 'outage', base_dir: path.join(machines, 'plan-3'), workdir: 'work', phases: [{ id: 1, name: 'Relay 1', command: ['node', 'relay.mjs'], config: { bytes: 100 }, retries: 0 }] },
      { worker_loss_retries: 10 },
    );
    await until(run, 'an attempt interrupted by the store', (s) => s.notices.some((n) => n.includes('the store could not be reached')), 60_000);
    await cut.stop();
    await worker(['--class', 'default', '--root', root], { ...env, BATON_WORKER_NAME: 'connected', BATON_CACHE: path.join(machines, 'connected', 'cache') });
    const final = await run.finalStatus();
    expect(final.state, JSON.stringify(final.phases)).toBe('completed');
    expect(final.phases['1']!.executed_by).toBe('connected');
    expect(final.notices.find((n) => n.includes('the store could not be reached'))).toMatch(/^phase 1: attempt \d+ was interrupted \(the store could not be reached\), not failed/);
  }, 120_000);

  it('refuse a config whose store is not one every machine can read the same way', async () => {
    await expect(new Orchestrator(await testClient()).start({ name: 'bad-store', phases: [{ id: 1, command: ['true'] }] }, { store: 'relative/dir' })).rejects.toThrow(
      /"store" must be s3:\/\/bucket\/prefix or an absolute directory \(\/srv\/baton-store\): every machine reads it the same way, got "relative\/dir"/,
    );
  });
});
