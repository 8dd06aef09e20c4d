/**
 * Chaos: a 50-phase run while phase workers are killed with SIGKILL 20 times at random, the
 * orchestrator worker twice, and the dev server restarted once on the same SQLite file. The run
 * must complete with every phase's output present exactly once. Loopback only, bounded in time.
 * Its figures go to test-results/chaos.json (RELIABILITY.md quotes them).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, expect, it } from 'vitest';
import { Orchestrator } from '../../src/client/orchestrator.js';
import type { RunStatus } from '../../src/workflows/status.js';
import { freePort } from '../support/ports.js';
import { BATON, FIXTURES, ROOT, tempDir } from '../support/baton.js';

const PHASE_KILLS = 20;
const ORCHESTRATOR_KILLS = 2;
const LAYERS = 10;
const WIDTH = 5;
const DEADLINE_MS = 300_000;

const binary = execFileSync('bash', [path.join(ROOT, 'temporal-dev.sh'), 'path'], { encoding: 'utf8' }).trim();
const processes = new Set<ChildProcess>();
afterAll(() => {
  for (const p of processes) p.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

async function startServer(port: number, uiPort: number, db: string): Promise<ChildProcess> {
  const server = spawn(binary, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--headless', '--db-filename', db, '--log-level', 'error'], { stdio: 'ignore' });
  processes.add(server);
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync(binary, ['operator', 'cluster', 'health', '--address', `127.0.0.1:${port}`], { stdio: 'ignore' });
      return server;
    } catch {
      await sleep(200);
    }
  }
  throw new Error('the dev server did not come up');
}

async function stop(p: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  await exited;
  processes.delete(p);
}

it('a 50-phase run survives 20 phase-worker kills, 2 orchestrator kills and a server restart, losing nothing', { timeout: DEADLINE_MS + 60_000 }, async () => {
  const started = Date.now();
  const dir = await tempDir('baton-chaos-');
  const [port, uiPort] = [await freePort(), await freePort()];
  const db = path.join(dir, 'chaos.sqlite');
  let server = await startServer(port, uiPort, db);
  const env = { ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_NAMESPACE: 'default', BATON_LOG_LEVEL: 'ERROR' };

  // Worker slots are respawned whenever their process dies, by our hand or otherwise.
  let chaos = true;
  const spawnWorker = (name: string, args: string[]): { proc: ChildProcess } => {
    const slot = { proc: undefined as unknown as ChildProcess };
    const launch = (): void => {
      slot.proc = spawn(process.execPath, [BATON, 'worker', ...args], { env: { ...env, BATON_WORKER_NAME: name }, stdio: 'ignore' });
      processes.add(slot.proc);
      slot.proc.once('exit', () => {
        processes.delete(slot.proc);
        if (chaos) setTimeout(launch, 300);
      });
    };
    launch();
    return slot;
  };
  const orchestratorSlot = spawnWorker('orchestrator', ['--orchestrator']);
  const phaseSlots = [1, 2, 3].map((n) => spawnWorker(`phase-worker-${n}`, ['--class', 'default', '--concurrency', '3']));

  const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  const orchestrator = new Orchestrator(new Client({ connection, namespace: 'default' }));
  const phases = [];
  for (let layer = 0; layer < LAYERS; layer++) {
    for (let i = 0; i < WIDTH; i++) {
      const deps = layer === 0 ? [] : [`p${layer - 1}-${i}`, `p${layer - 1}-${(i + 1) % WIDTH}`];
      phases.push({ id: `p${layer}-${i}`, name: `Layer ${layer} #${i}`, depends_on: deps, command: ['node', path.join(FIXTURES, 'chaos-phase.mjs')], config: { ms: 800 + Math.floor(Math.random() * 800) }, retries: 3 });
    }
  }
  const run = await orchestrator.start(
    { name: 'chaos', workdir: path.join(dir, 'wd'), phases },
    { max_parallel_phases: 10, heartbeat_timeout_s: 2, worker_loss_retries: 25, resource_classes: { default: { concurrency: 3 } } },
    { runId: `chaos-${Date.now()}` },
  );

  const progress = async (): Promise<number> => {
    try {
      const s = await run.status();
      return Object.values(s.phases).filter((p) => p.state === 'completed').length / phases.length;
    } catch {
      return -1; // the server is down or restarting
    }
  };
  let phaseKills = 0;
  let orchestratorKills = 0;
  let serverRestarts = 0;
  while (phaseKills < PHASE_KILLS || orchestratorKills < ORCHESTRATOR_KILLS || serverRestarts < 1) {
    if (Date.now() - started > DEADLINE_MS) throw new Error(`chaos did not finish in time: ${phaseKills} kills, ${orchestratorKills} orchestrator kills, ${serverRestarts} restarts`);
    await sleep(500 + Math.random() * 700);
    const done = await progress();
    if (done >= 1) break;
    if (serverRestarts === 0 && done >= 0.4) {
      await stop(server, 'SIGTERM');
      await sleep(1000);
      server = await startServer(port, uiPort, db);
      serverRestarts++;
    } else if (orchestratorKills < ORCHESTRATOR_KILLS && done >= (orchestratorKills === 0 ? 0.2 : 0.6)) {
      await stop(orchestratorSlot.proc, 'SIGKILL');
      orchestratorKills++;
    } else if (phaseKills < PHASE_KILLS) {
      await stop(pick(phaseSlots).proc, 'SIGKILL');
      phaseKills++;
    }
  }

  let status: RunStatus | undefined;
  for (;;) {
    if (Date.now() - started > DEADLINE_MS) throw new Error(`the run did not complete in time: ${JSON.stringify(status?.phases)}`);
    try {
      const description = await run.workflow.describe();
      if (description.status.name !== 'RUNNING') {
        status = await run.status();
        break;
      }
    } catch {
      // server restarting
    }
    await sleep(500);
  }
  chaos = false;
  const elapsed = (Date.now() - started) / 1000;

  expect(status.state).toBe('completed');
  const workdir = path.join(dir, 'wd');
  const committed = (await readdir(path.join(workdir, 'outputs'))).filter((f) => /^phase_p\d+-\d+\.json$/.test(f));
  const effects = await readdir(path.join(workdir, 'effects'));
  expect(committed).toHaveLength(phases.length);
  expect(effects).toHaveLength(phases.length); // every phase's effect exactly once, however often it ran
  for (const p of phases) {
    const output = JSON.parse(await readFile(path.join(workdir, 'outputs', `phase_${p.id}.json`), 'utf8'));
    expect(output.phase).toBe(p.id);
    expect(output.context).toEqual(status.phases[p.id]!.context!.context);
  }
  // Each phase's value is 1 + its dependencies': a lost or doubled output would change these.
  const expected = new Map<string, number>();
  for (const p of phases) expected.set(p.id, 1 + p.depends_on.reduce((sum, d) => sum + expected.get(d)!, 0));
  for (const p of phases) expect(status.phases[p.id]!.context!.context.value, p.id).toBe(expected.get(p.id));

  const lostWorkerNotices = status.notices.filter((n) => n.includes('lost its worker')).length;
  const attempts = Object.values(status.phases).reduce((sum, p) => sum + p.attempts, 0);
  const figures = {
    date: new Date().toISOString(),
    phases: phases.length,
    phase_worker_kills: phaseKills,
    orchestrator_kills: orchestratorKills,
    server_restarts: serverRestarts,
    seconds: elapsed,
    attempts,
    redispatches_after_lost_workers: lostWorkerNotices,
    outputs_checked: committed.length,
    effects_recorded: effects.length,
    lost: phases.length - committed.length,
    duplicated: effects.length - phases.length,
  };
  await mkdir(path.join(ROOT, 'test-results'), { recursive: true });
  await writeFile(path.join(ROOT, 'test-results', 'chaos.json'), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`chaos: ${JSON.stringify(figures)}`);
  expect(phaseKills).toBe(PHASE_KILLS);
  expect(orchestratorKills).toBe(ORCHESTRATOR_KILLS);
  expect(serverRestarts).toBe(1);

  for (const p of processes) p.kill('SIGKILL');
  await connection.close();
});
