/**
 * `baton gc` against the S3 store (issue 16): a finished run past the retention goes with the content
 * only it referenced; a live run stays, and so does the finished run it reuses (`--resume-from`),
 * with its content; `--dry-run` removes nothing.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Orchestrator } from '../../src/client/orchestrator.js';
import { planResume } from '../../src/client/resume.js';
import { PlanSchema } from '../../src/core/plan/schema.js';
import { configuredStore } from '../../src/runner/store/sync.js';
import { baton, FIXTURES, testClient, until, workersPerTest } from '../support/baton.js';
import { s3StoreEnv, storeTestDir, useS3Server } from '../support/s3-server.js';

const s3 = useS3Server();
const worker = workersPerTest();
const files = storeTestDir('baton-gc-');

describe('baton gc', () => {
  it('removes runs past the retention and their content, keeping live runs and the runs they reuse', async () => {
    const dir = files.path;
    const env = s3StoreEnv(s3, `gc-${process.pid}`);
    const code = path.join(dir, 'code');
    await mkdir(code, { recursive: true });
    await copyFile(path.join(FIXTURES, 'store-machines/relay.mjs'), path.join(code, 'relay.mjs'));
    await worker(['--orchestrator'], env);
    await worker(['--class', 'default', '--root', code], { ...env, BATON_WORKER_NAME: 'w', BATON_CACHE: path.join(dir, 'cache') });
    Object.assign(process.env, env);
    const client = await testClient();
    const orchestrator = new Orchestrator(client);
    const relay = (id: number, deps: number[], bytes: number, extra: Record<string, unknown> = {}) => ({ id, name: `Relay ${id}`, depends_on: deps, command: ['node', 'relay.mjs'], config: { bytes }, ...extra });
    const plan = (name: string, phases: Array<ReturnType<typeof relay>>) => ({ name, base_dir: path.join(dir, name), workdir: 'work', phases });

    const reused = await orchestrator.start(plan('reused', [relay(1, [], 4000), relay(2, [1], 5000)]));
    const gone = await orchestrator.start(plan('gone', [relay(1, [], 7000)]));
    expect((await reused.finalStatus()).state).toBe('completed');
    expect((await gone.finalStatus()).state).toBe('completed');
    // A live run that reuses the first run's phases: it awaits an agent for its third.
    const livePlan = PlanSchema.parse(plan('reused', [relay(1, [], 4000), relay(2, [1], 5000), relay(3, [2], 10, { use_separate_agent: true })]));
    const { resume } = await planResume(client, reused.runId, livePlan);
    expect(Object.keys(resume.phases)).toEqual(['1', '2']);
    const live = await orchestrator.start(livePlan, {}, { resume });
    await until(live, 'phase 3 to await an agent', (s) => s.phases['3']?.state === 'awaiting_agent', 60_000);

    const store = configuredStore()!;
    const goneArtifact = (await gone.finalStatus()).phases['1']!.context!.artifacts.data!.sha256;
    const reusedArtifact = (await reused.finalStatus()).phases['2']!.context!.artifacts.data!.sha256;
    await new Promise((r) => setTimeout(r, 1100)); // S3 times are in whole seconds: everything so far is older than now

    const dry = await baton(['gc', '--older-than', '0s', '--dry-run', '--json'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    // Runs other test files left on the shared dev server may have been carried on by this file's
    // workers and written to this store too: only this file's runs are asserted on.
    const wouldRemove = (JSON.parse(dry.stdout) as { removedRuns: string[] }).removedRuns;
    expect(wouldRemove).toContain(gone.runId);
    expect(wouldRemove).not.toContain(live.runId);
    expect(wouldRemove).not.toContain(reused.runId);
    expect(await store.hasContent(goneArtifact)).toBeTruthy();

    const gc = await baton(['gc', '--older-than', '0s'], { env });
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toMatch(/removed \d+ run\(s\) and \d+ content object\(s\)/);
    expect(gc.stdout).toContain(`removed run ${gone.runId}`);
    expect(gc.stdout).toContain(`kept run ${live.runId}: live`);
    expect(gc.stdout).toContain(`kept run ${reused.runId}: reused by run ${live.runId} (--resume-from)`);
    expect(await store.hasContent(goneArtifact)).toBeUndefined();
    expect(await store.hasContent(reusedArtifact)).toBeTruthy();
    const left: string[] = [];
    for await (const o of store.list(`runs/${gone.runId}/`)) left.push(o.key);
    expect(left).toEqual([]);
    expect(await store.head(`runs/${reused.runId}/outputs/phase_2.json`)).toBeTruthy();
  }, 180_000);

  it('refuses a retention it cannot read, and says how to write one', async () => {
    const gc = await baton(['gc', '--older-than', 'a month'], { env: { BATON_STORE: path.join(files.path, 'fs-store') } });
    expect(gc.code).toBe(2);
    expect(gc.stderr).toContain('--older-than takes a duration such as 30d, 12h, 90m or 45s, not "a month"');
  });
});
