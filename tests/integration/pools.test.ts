/**
 * Resource classes and worker pools with real, separate worker processes: each class's phases go
 * to its own pool, workers of one class share its work, a killed worker's phase moves on within
 * the heartbeat timeout, SIGTERM lets phases finish, and a queue nobody polls is reported.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Orchestrator } from '../../src/client/orchestrator.js';
import type { QueueReport } from '../../src/client/queues.js';
import { baton, fixturePhase, tempDir, testClient, writeJson, until, workersPerTest } from '../support/baton.js';

const startWorkerForTest = workersPerTest();
const worker = (name: string, args: string[], env: NodeJS.ProcessEnv = {}) => startWorkerForTest(args, { BATON_WORKER_NAME: name, ...env });


describe('worker pools', () => {
  it('runs gpu phases only on the gpu worker, and shares a fan-out between two default workers', async () => {
    await worker('orchestrator', ['--orchestrator']);
    await worker('default-a', ['--class', 'default', '--concurrency', '1']);
    await worker('default-b', ['--class', 'default', '--concurrency', '1']);
    await worker('gpu-box', ['--class', 'gpu']);
    const orchestrator = new Orchestrator(await testClient());
    const fan = [1, 2, 3, 4, 5, 6].map((i) => fixturePhase(i, [0], { sleep_ms: 400 }));
    const run = await orchestrator.start(
      { name: 'pools', workdir: await tempDir(), phases: [fixturePhase(0), ...fan, fixturePhase('train', [0], {}, { resource_class: 'gpu' }), fixturePhase('bench', ['train'], {}, { resource_class: 'gpu' })] },
      { max_parallel_phases: 8 },
    );
    const status = await run.finalStatus();
    expect(status.state).toBe('completed');
    expect(status.phases.train!.executed_by).toBe('gpu-box');
    expect(status.phases.bench!.executed_by).toBe('gpu-box');
    const fanWorkers = new Set([1, 2, 3, 4, 5, 6].map((i) => status.phases[String(i)]!.executed_by));
    expect([...fanWorkers].sort()).toEqual(['default-a', 'default-b']);
    for (const [key, p] of Object.entries(status.phases)) if (p.resource_class === 'default') expect(p.executed_by, key).not.toBe('gpu-box');
  });

  it('moves the phase of a worker killed with SIGKILL to another worker within the heartbeat timeout', async () => {
    await worker('orchestrator', ['--orchestrator']);
    const victim = await worker('victim', ['--class', 'default']);
    const workdir = await tempDir();
    const run = await new Orchestrator(await testClient()).start(
      { name: 'failover', workdir, phases: [{ id: 0, name: 'Long', command: ['sh', '-c', 'echo "$BATON_WORKER_NAME" >> "$BATON_WORKDIR/started"; sleep 3'] }] },
      { heartbeat_timeout_s: 3 },
    );
    const started = path.join(workdir, 'started');
    for (let i = 0; i < 100 && !existsSync(started); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await readFile(started, 'utf8')).toBe('victim\n');
    await worker('rescuer', ['--class', 'default']);
    const killedAt = Date.now();
    await victim.stop('SIGKILL');

    const status = await run.finalStatus();
    const movedWithin = Date.now() - killedAt;
    expect(status.state).toBe('completed');
    expect(status.phases['0']!.executed_by).toBe('rescuer');
    // The rescuer's attempt tells the run the one before it was interrupted, not failed.
    // It does not claim the worker died: from the rescuer, a dead worker and a server restart look alike.
    expect(status.notices).toContainEqual(
      expect.stringMatching(/^phase 0: attempt 1 was interrupted \(its heartbeats stopped reaching Temporal \(its worker \(\d+@\S+\) may have died or lost its connection, or the server restarted\)\), not failed; attempt 2 runs now, without spending a retry \(1 of 3 interruptions allowed\)$/),
    );
    // Noticed after the 3 s heartbeat timeout (not the 1 h phase timeout), then 3 s of work on the rescuer.
    expect(movedWithin).toBeLessThan(15_000);
    expect((await readFile(started, 'utf8')).trim().split('\n')).toEqual(['victim', 'rescuer']);
  });

  it('on SIGTERM a worker takes no new work but finishes the phase it runs', async () => {
    await worker('orchestrator', ['--orchestrator']);
    const leaving = await worker('leaving', ['--class', 'default', '--grace', '20']);
    const workdir = await tempDir();
    const run = await new Orchestrator(await testClient()).start({ name: 'graceful', workdir, phases: [fixturePhase(0, [], { sleep_ms: 2500 }), fixturePhase(1, [0])] });
    await until(run, 'phase 0 running', (s) => s.phases['0']!.state === 'running');
    await new Promise((r) => setTimeout(r, 500)); // picked up by the worker
    const exited = leaving.stop('SIGTERM');
    await worker('staying', ['--class', 'default']);
    expect(await exited).toBe(0);
    const status = await run.finalStatus();
    expect(status.phases['0']!.executed_by).toBe('leaving');
    expect(status.phases['1']!.executed_by).toBe('staying');
  });

  it('reports a backlog while no worker polls a queue, in baton queues and in the run status', async () => {
    await worker('orchestrator', ['--orchestrator']);
    const dir = await tempDir();
    const configFile = await writeJson(path.join(dir, 'config.json'), { resource_classes: { default: {}, highmem: { concurrency: 2 } } });
    const run = await new Orchestrator(await testClient()).start(
      { name: 'no-workers', workdir: dir, phases: [fixturePhase('big', [], {}, { resource_class: 'highmem' })] },
      { resource_classes: { default: {}, highmem: { concurrency: 2 } } },
    );
    let report: QueueReport | undefined;
    for (let i = 0; i < 50; i++) {
      const out = await baton(['queues', '--config', configFile, '--json']);
      report = (JSON.parse(out.stdout) as QueueReport[]).find((r) => r.task_queue === 'baton-highmem');
      if (report && report.backlog_count > 0) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(report).toMatchObject({ resource_class: 'highmem', workers: [], backlog_count: 1 });
    expect(report!.recommendation).toMatch(/^baton-highmem: 1 phases waiting for \d+s with no worker: start `baton worker --class highmem`$/);
    const plain = await baton(['queues', '--config', configFile]);
    expect(plain.stdout).toContain('with no worker: start `baton worker --class highmem`');

    const waiting = await until(run, 'the run to notice', (s) => s.phases.big!.waiting_for_workers !== undefined, 20_000);
    expect(waiting.phases.big!.waiting_for_workers).toBe('no worker polls baton-highmem: start `baton worker --class highmem`');

    await worker('highmem-box', ['--class', 'highmem', '--config', configFile]);
    const status = await run.finalStatus();
    expect(status.phases.big!.executed_by).toBe('highmem-box');
    expect(status.phases.big!.waiting_for_workers).toBeUndefined();
  });
});
