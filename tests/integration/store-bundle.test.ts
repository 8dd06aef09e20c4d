/**
 * The offline bundle round trip (issue 16): a phase awaiting an agent is bundled with
 * `baton handoff bundle` (its package and every input, fetched from the S3 store); the agent works
 * on a machine with neither the run's workdir nor the store nor Temporal (a private mount namespace
 * with an empty tmpfs over the run's files, and no BATON_STORE), and writes a result bundle; `baton
 * submit` stores the result's files and reports it, and the next phase, on a worker, reads them.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Orchestrator } from '../../src/client/orchestrator.js';
import { configuredStore } from '../../src/runner/store/sync.js';
import { resultKey } from '../../src/activities/agent-handoff.js';
import { BATON, baton, batonEnv, FIXTURES, testClient, until, workersPerTest } from '../support/baton.js';
import { s3StoreEnv, storeTestDir, useS3Server } from '../support/s3-server.js';

const s3 = useS3Server();
const worker = workersPerTest();
const RELAY = path.join(FIXTURES, 'store-machines/relay.mjs');
const files = storeTestDir('baton-bundle-');

/** Runs a shell script in a private mount namespace with an empty tmpfs over `hidden`; resolves with its exit code and output. */
function onAnotherMachine(hidden: string, script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('unshare', ['-m', 'sh', '-c', `mount -t tmpfs none "$HIDDEN" && ${script}`], { env: { ...env, HIDDEN: hidden }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('an offline agent with neither the workdir nor the store', () => {
  it('takes a phase bundle, returns a result bundle, and the run goes on with its files', async () => {
    const dir = files.path;
    const storeEnv = {
      ...s3StoreEnv(s3, `bundle-${process.pid}`),
      // Packages and results are signed, as a run that sends work off-site should have them.
      BATON_HANDOFF_KEY: 'bundle-test-key-0123456789abcdef0123456789',
    };
    const runFiles = path.join(dir, 'run'); // the plan and its workdir: hidden from the agent
    const code = path.join(dir, 'code');
    await mkdir(code, { recursive: true });
    await mkdir(runFiles, { recursive: true });
    await copyFile(RELAY, path.join(code, 'relay.mjs'));
    await worker(['--orchestrator'], storeEnv);
    await worker(['--class', 'default', '--root', code], { ...storeEnv, BATON_WORKER_NAME: 'worker', BATON_CACHE: path.join(dir, 'cache') });

    Object.assign(process.env, storeEnv);
    const phase = (id: number, deps: number[], extra: Record<string, unknown> = {}) => ({ id, name: `Relay ${id}`, depends_on: deps, command: ['node', 'relay.mjs'], config: { bytes: 50_000 }, ...extra });
    const run = await new Orchestrator(await testClient()).start({
      name: 'bundled',
      base_dir: runFiles,
      workdir: 'work',
      phases: [phase(1, []), phase(2, [1], { use_separate_agent: true }), phase(3, [2])],
    });
    await until(run, 'phase 2 to await an agent', (s) => s.phases['2']?.state === 'awaiting_agent', 60_000);

    const bundled = await baton(['handoff', 'bundle', run.runId, '2', '-o', path.join(dir, 'agent', 'phase.tar.gz')], { env: storeEnv });
    expect(bundled.code, bundled.stderr).toBe(0);
    expect(bundled.stdout).toMatch(/phase 2 \(Relay 2\), generation 1, with 2 files \(\d+ bytes\)/);

    // The agent's machine: no store, no Temporal, no run files; only the bundle and its own code.
    const noStore = { ...batonEnv(), BATON_STORE: '', TEMPORAL_ADDRESS: '127.0.0.1:9', BATON_WORKER_NAME: 'agent', BATON_AGENT_NAME: 'agent', BATON_HANDOFF_KEY: storeEnv.BATON_HANDOFF_KEY };
    const agent = await onAnotherMachine(
      runFiles,
      `cd "${path.join(dir, 'agent')}" && test ! -e "${path.join(runFiles, 'work')}" && "${process.execPath}" "${BATON}" execute-phase phase.tar.gz --root "${code}" --offline --out result.tar.gz`,
      noStore,
    );
    expect(agent.code, agent.output).toBe(0);
    expect(agent.output).toContain('phase 2 (Relay 2) completed; result sealed in result.tar.gz');
    expect(agent.output).toMatch(new RegExp(`phase\\.tar\\.gz: unpacked into ${path.join(dir, 'agent')}/phase-\\w+ \\(the phase's files are under `));

    const submitted = await baton(['submit', path.join(dir, 'agent', 'result.tar.gz')], { env: storeEnv });
    expect(submitted.code, submitted.stderr).toBe(0);
    const final = await run.finalStatus();
    expect(final.state, JSON.stringify(final.phases)).toBe('completed');
    expect(final.phases['2']!.executed_by).toMatch(/^agent@/);

    // Phase 3 ran on the worker from the files the agent made, by their recorded hashes.
    const store = configuredStore()!;
    const output = (key: string) => store.get(`runs/${run.runId}/outputs/phase_${key}.json`).then((b) => JSON.parse(b.toString('utf8')) as { context: { seen: Record<string, string> } });
    const agentArtifact = final.phases['2']!.context!.artifacts.data!;
    expect((await output('3')).context.seen['2.data']).toBe(agentArtifact.sha256);
    expect(createHash('sha256').update(await store.getContent(agentArtifact.sha256)).digest('hex')).toBe(agentArtifact.sha256);
    // The agent's result itself is kept in the store, as the run checked it.
    const kept = JSON.parse((await store.get(resultKey({ execution_id: run.runId, phase: 2, generation: 1, attempt: 1 }))).toString('utf8')) as { outcome: string; output: { artifacts: Record<string, { sha256: string }> } };
    expect(kept.outcome).toBe('completed');
    expect(kept.output.artifacts.data!.sha256).toBe(agentArtifact.sha256);
  }, 120_000);

  it('an online agent on a machine without the workdir claims a phase, gets its package and inputs from the store, and reports', async () => {
    const dir = files.path;
    const storeEnv = { ...s3StoreEnv(s3, `online-${process.pid}`), BATON_HANDOFF_KEY: 'online-test-key-0123456789abcdef0123456789' };
    const runFiles = path.join(dir, 'online-run');
    const code = path.join(dir, 'online-code');
    await mkdir(code, { recursive: true });
    await mkdir(runFiles, { recursive: true });
    await copyFile(RELAY, path.join(code, 'relay.mjs'));
    await worker(['--orchestrator'], storeEnv);
    await worker(['--class', 'default', '--root', code], { ...storeEnv, BATON_CACHE: path.join(dir, 'online-cache') });
    Object.assign(process.env, storeEnv);
    const phase = (id: number, deps: number[], extra: Record<string, unknown> = {}) => ({ id, name: `Relay ${id}`, depends_on: deps, command: ['node', 'relay.mjs'], config: { bytes: 20_000 }, ...extra });
    const run = await new Orchestrator(await testClient()).start({ name: 'online', base_dir: runFiles, workdir: 'work', phases: [phase(1, []), phase(2, [1], { use_separate_agent: true }), phase(3, [2])] });
    await until(run, 'phase 2 to await an agent', (s) => s.phases['2']?.state === 'awaiting_agent', 60_000);

    // Another machine: Temporal and the store, its own cache, no run files.
    const agentEnv = { ...batonEnv(storeEnv), BATON_AGENT_NAME: 'remote', BATON_CACHE: path.join(dir, 'agent-cache') };
    const baton_ = `"${process.execPath}" "${BATON}"`;
    const agent = await onAnotherMachine(
      runFiles,
      `P=$(${baton_} agent claim --run ${run.runId} --json | "${process.execPath}" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).handoff_path))') && echo "package: $P" && ${baton_} execute-phase "$P" --root "${code}"`,
      agentEnv,
    );
    expect(agent.code, agent.output).toBe(0);
    expect(agent.output).toContain(`package: ${path.join(dir, 'agent-cache')}`);
    expect(agent.output).toContain(`run ${run.runId} accepted the result`);
    const final = await run.finalStatus();
    expect(final.state, JSON.stringify(final.phases)).toBe('completed');
    expect(final.phases['2']!.executed_by).toMatch(/^remote@/);
  }, 120_000);

  it('refuses a result bundle whose file does not match the result, and names it', async () => {
    const { writeResultBundle } = await import('../../src/runner/bundle.js');
    const dir = files.path;
    const work = path.join(dir, 'tampered');
    await mkdir(path.join(work, 'data'), { recursive: true });
    await writeFile(path.join(work, 'data', 'x.bin'), 'changed after the result was sealed');
    const result = {
      schema_version: 1, execution_id: 'r', phase: 1, generation: 1, attempt: 1, package_hash: `sha256:${'0'.repeat(64)}`, outcome: 'completed',
      output: { context: {}, artifacts: { x: { path: 'data/x.bin', sha256: 'a'.repeat(64), size: 3 } } }, error: null, content_hash: null, signature: null,
      provenance: { host: 'h', user: 'u', agent: 'a', mode: 'offline', started_at: new Date().toISOString(), finished_at: new Date().toISOString() },
    };
    // Writing it checks the file too: a bundle never carries a file other than the one recorded.
    await expect(writeResultBundle(path.join(dir, 'bad.tar.gz'), result as never, work)).rejects.toThrow(/data\/x\.bin is not as recorded/);
  });
});
