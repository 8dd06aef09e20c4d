/**
 * `baton ui`'s server against a stand-in for Temporal: the JSON the page reads (runs, a run, its graph,
 * a phase's package and logs), the actions it posts (done, refused with the run's notice, a closed run),
 * and what keeps other sites and other files out.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhaseStatus, RunStatus } from '../../src/core/api/status.js';
import type { PhaseId } from '../../src/core/plan/schema.js';
import type { ActionResponse, GraphResponse, LogsResponse, LogTail, PackageResponse, RunResponse, RunsResponse } from '../../src/web/api.js';
import { newNotices } from '../../src/web/actions.js';
import { startUiServer, type UiServer } from '../../src/web/server.js';
import { NoSuchRun, type RunAccess, type RunListing, type RunsSource } from '../../src/web/source.js';

function phase(id: number, state: PhaseStatus['state'], deps: number[] = []): PhaseStatus {
  return {
    id,
    name: `Phase ${id}`,
    state,
    attempts: state === 'pending' ? 0 : 1,
    generation: state === 'pending' ? 0 : 1,
    resource_class: 'default',
    task_queue: 'baton-default',
    scheduled_at: null,
    started_at: null,
    finished_at: null,
    depends_on: deps,
    separate_agent: false,
    ...(state === 'failed' ? { error: 'exit 1' } : {}),
  };
}

/** A run the way phasedRun answers: signals change its status or add a notice saying why not. */
class FakeRun implements RunAccess {
  executionStatus = 'running';
  sent: string[] = [];
  constructor(public s: RunStatus) {}
  describe = async () => {
    if (this.executionStatus === 'missing') throw new NoSuchRun(`there is no run ${this.s.execution_id} in namespace default`);
    return { runId: 'temporal-run-1', executionStatus: this.executionStatus };
  };
  status = async () => {
    await this.describe();
    return structuredClone(this.s);
  };
  async retry(id: PhaseId, downstream: boolean): Promise<void> {
    this.sent.push(`retry ${id} ${downstream}`);
    const p = this.s.phases[String(id)];
    if (!p) return void this.s.notices.push(`retryPhase: the plan has no phase ${id}; phases are ${Object.keys(this.s.phases).join(', ')}`);
    if (!['failed', 'completed', 'skipped'].includes(p.state)) return void this.s.notices.push(`retryPhase: phase ${id} is ${p.state}; only a failed, completed or skipped phase can be retried`);
    p.state = 'pending';
    this.s.state = 'running';
  }
  async skip(id: PhaseId): Promise<void> {
    this.sent.push(`skip ${id}`);
    const p = this.s.phases[String(id)]!;
    if (p.state === 'completed') return void this.s.notices.push(`skipPhase: phase ${id} is completed; only a pending, ready or failed phase can be skipped`);
    p.state = 'skipped';
  }
  async markDone(id: PhaseId, output: { context?: Record<string, unknown> }): Promise<void> {
    this.sent.push(`mark-done ${id} ${JSON.stringify(output)}`);
    const p = this.s.phases[String(id)]!;
    // As the update's validator: a refusal is thrown at once.
    if (p.state !== 'failed' && p.state !== 'awaiting_agent') throw new Error(`markPhaseDone: phase ${id} is ${p.state}; only a failed phase or one awaiting an agent can be marked done`);
    p.state = 'completed';
  }
  async hand(id: PhaseId, to: 'agent' | 'worker'): Promise<void> {
    this.sent.push(`hand ${id} ${to}`);
    const p = this.s.phases[String(id)]!;
    if (p.state !== 'pending' && p.state !== 'failed') throw new Error(`handPhase: phase ${id} is ${p.state}; only a pending or failed phase can be handed on`);
    p.separate_agent = to === 'agent';
  }
  async pause(): Promise<void> {
    this.s.paused = true;
  }
  async resume(): Promise<void> {
    this.s.paused = false;
  }
  async abort(): Promise<void> {
    this.executionStatus = 'canceled';
  }
}

let workdir: string;
const runs = new Map<string, FakeRun>();
const listings: RunListing[] = [];
const source: RunsSource = {
  listRuns: async () => ({
    open: listings.filter((r) => r.executionStatus === 'running'),
    closed: listings.filter((r) => r.executionStatus !== 'running'),
    more: false,
    queries: ["WorkflowType = 'phasedRun' AND ExecutionStatus = 'Running'"],
  }),
  run: (id) => runs.get(id) ?? missing(id),
};

function missing(id: string): FakeRun {
  const run = new FakeRun({ execution_id: id } as RunStatus);
  run.executionStatus = 'missing';
  return run;
}

function listing(id: string, over: Partial<RunListing>): RunListing {
  return { workflowId: id, runId: `${id}-r`, executionStatus: 'running', startTime: new Date('2026-12-01T10:00:00Z'), closeTime: null, plan: 'p', batonState: 'running', held: [], awaitingAgent: [], running: [], ...over };
}

function heldRun(id: string): FakeRun {
  return new FakeRun({
    execution_id: id,
    plan: 'demo',
    workdir,
    handoffs_enabled: true,
    state: 'held',
    paused: false,
    started_at: '2026-12-01T10:00:00.000Z',
    finished_at: null,
    held_reason: 'phase 2 (Phase 2) failed: exit 1. Send retryPhase {"phase": 2} to run it again, or skipPhase to move on.',
    notices: ['an old notice'],
    phases: { '1': phase(1, 'completed'), '2': phase(2, 'failed', [1]), '3': phase(3, 'pending', [2]), '4': phase(4, 'running', [1]) },
  });
}

let ui: UiServer;
beforeAll(async () => {
  workdir = await mkdtemp(path.join(os.tmpdir(), 'baton-ui-'));
  runs.set('held-run', heldRun('held-run'));
  listings.push(
    listing('old-done', { executionStatus: 'completed', batonState: 'completed', startTime: new Date('2026-11-01T00:00:00Z'), closeTime: new Date('2026-11-01T01:00:00Z') }),
    listing('newer-running', { startTime: new Date('2026-12-02T00:00:00Z'), running: ['3'] }),
    listing('awaiting', { awaitingAgent: ['12'], startTime: new Date('2026-11-20T00:00:00Z') }),
    listing('held-run', { batonState: 'held', held: ['2'], startTime: new Date('2026-11-10T00:00:00Z') }),
    listing('terminated', { executionStatus: 'terminated', batonState: 'held', held: ['7'], closeTime: new Date('2026-12-01T00:00:00Z') }),
  );
  ui = await startUiServer({
    source,
    connection: { address: 'temporal.example:7233', namespace: 'ns <1>' },
    env: { TEMPORAL_UI_URL: 'http://temporal-ui.example:8080/' },
    port: 0,
    actionTiming: { waitMs: 600, intervalMs: 20 },
    autoFoldOver: 2,
  });
});
afterAll(async () => {
  await ui?.close();
});

async function get<T>(url: string): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${ui.url}${url}`);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

async function post(url: string, body: unknown, headers: Record<string, string> = { 'Content-Type': 'application/json' }): Promise<{ status: number; body: ActionResponse & { error?: string } }> {
  const res = await fetch(`${ui.url}${url}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as ActionResponse & { error?: string } };
}

describe('reading', () => {
  it('lists open runs held first, then awaiting an agent, then the newest; closed ones after, a terminated one as terminated', async () => {
    const { body } = await get<RunsResponse>('/api/runs');
    expect(body.runs.map((r) => r.workflow_id)).toEqual(['held-run', 'awaiting', 'newer-running', 'terminated', 'old-done']);
    const terminated = body.runs.find((r) => r.workflow_id === 'terminated')!;
    expect(terminated).toMatchObject({ state: 'terminated', held_phases: [] });
    expect(body.runs[0]!.links).toEqual({ baton: '/runs/held-run', temporal: 'http://temporal-ui.example:8080/namespaces/ns%20%3C1%3E/workflows/held-run' });
  });

  it("answers a run with its status, layers, what blocks what and links into Temporal's UI; unchanged, a 304", async () => {
    const { body, headers } = await get<RunResponse>('/api/runs/held-run');
    expect(body.status.state).toBe('held');
    expect(body.layers).toEqual({ '1': 0, '2': 1, '4': 1, '3': 2 });
    expect(body.blocked_by).toEqual({ '3': ['2'] });
    expect(body.links).toEqual({
      baton: '/runs/held-run',
      temporal_run: 'http://temporal-ui.example:8080/namespaces/ns%20%3C1%3E/workflows/held-run',
      temporal_details: 'http://temporal-ui.example:8080/namespaces/ns%20%3C1%3E/workflows/held-run/temporal-run-1/user-metadata',
      temporal_pending_activities: 'http://temporal-ui.example:8080/namespaces/ns%20%3C1%3E/workflows/held-run/temporal-run-1/pending-activities',
      temporal_history: 'http://temporal-ui.example:8080/namespaces/ns%20%3C1%3E/workflows/held-run/temporal-run-1/history',
    });
    const again = await fetch(`${ui.url}/api/runs/held-run`, { headers: { 'If-None-Match': headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('draws the graph, finished layers folded past the auto-fold size', async () => {
    const auto = (await get<GraphResponse>('/api/runs/held-run/graph')).body;
    expect(auto).toMatchObject({ folded: [0], foldable: [0], layer_count: 3, node_count: 4 });
    expect(auto.svg).toContain('data-fold="fold:0-0"');
    const none = (await get<GraphResponse>('/api/runs/held-run/graph?fold=none')).body;
    expect(none.node_count).toBe(4);
    expect(none.svg.match(/data-phase=/g)).toHaveLength(4);
    expect(none.svg).toContain('data-phase="2" data-state="failed"');
    // A layer that is not finished is never folded, whatever is asked.
    expect((await get<GraphResponse>('/api/runs/held-run/graph?fold=0,1')).body.folded).toEqual([0]);
  });

  it("serves a phase's package and logs from the run's directory, newest first, and no other file", async () => {
    const run = path.join(workdir, 'runs', 'held-run');
    await mkdir(path.join(run, 'handoffs'), { recursive: true });
    await mkdir(path.join(run, 'logs'), { recursive: true });
    await writeFile(path.join(run, 'handoffs', 'phase_2.json'), JSON.stringify({ execution_id: 'held-run', to_phase: 2 }));
    await writeFile(path.join(run, 'handoffs', 'execute_phase_2.sh'), '#!/bin/sh\n');
    await writeFile(path.join(run, 'logs', 'phase_2.g1.a1.stderr.log'), 'first try\n');
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(path.join(run, 'logs', 'phase_2.g1.a2.stderr.log'), `${'x'.repeat(100)}\nline two\nstill broken\n`);
    await new Promise((r) => setTimeout(r, 20)); // an attempt's stdout written after its stderr stays beside it
    await writeFile(path.join(run, 'logs', 'phase_2.g1.a2.stdout.log'), '');
    await writeFile(path.join(run, 'logs', 'phase_20.g1.a1.stderr.log'), 'another phase');
    await writeFile(path.join(run, 'logs', 'secret.txt'), 'not a log');

    const pkg = (await get<PackageResponse>('/api/runs/held-run/phases/2/package')).body;
    expect(pkg).toMatchObject({ package: { execution_id: 'held-run', to_phase: 2 }, script_path: path.join(run, 'handoffs', 'execute_phase_2.sh') });
    expect((await get<PackageResponse>('/api/runs/held-run/phases/3/package')).body.problem).toMatch(/^no package yet at .*phase_3\.json/);

    const logs = (await get<LogsResponse>('/api/runs/held-run/phases/2/logs')).body;
    expect(logs.files.map((f) => f.name)).toEqual(['phase_2.g1.a2.stderr.log', 'phase_2.g1.a2.stdout.log', 'phase_2.g1.a1.stderr.log']);
    const tail = (await get<LogTail>('/api/runs/held-run/phases/2/logs/phase_2.g1.a2.stderr.log?bytes=20')).body;
    expect(tail).toEqual({ name: 'phase_2.g1.a2.stderr.log', size: 123, text: 'still broken\n', truncated: true });

    for (const name of ['secret.txt', '..%2F..%2F..%2Fetc%2Fpasswd', 'phase_20.g1.a1.stderr.log']) {
      expect((await get(`/api/runs/held-run/phases/2/logs/${name}`)).status, name).toBe(404);
    }
    expect((await get<{ error: string }>('/api/runs/held-run/phases/99/logs')).body).toEqual({ error: 'run held-run has no phase 99' });
    expect((await get<{ error: string }>('/api/runs/nope')).body).toEqual({ error: 'there is no run nope in namespace default' });
  });

  it('serves the page with a strict content policy, the namespace escaped and no secrets', async () => {
    for (const url of ['/', '/runs/held-run']) {
      const res = await fetch(`${ui.url}${url}`);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'; script-src 'self'");
      const html = await res.text();
      expect(html).toContain('<script type="module" src="/assets/app.js"></script>');
      expect(html).toContain('namespace ns &lt;1&gt; at temporal.example:7233');
    }
  });
});

describe('acting', () => {
  it('retries a failed phase and says so once the run shows it', async () => {
    const res = await post('/api/runs/held-run/actions', { action: 'retry', phase: '2' });
    expect(res.body).toEqual({ outcome: 'done', message: 'Phase 2 runs again: it is pending now.' });
    expect(runs.get('held-run')!.sent).toContain('retry 2 false');
  });

  it("shows the run's refusal: the notice it adds", async () => {
    const res = await post('/api/runs/held-run/actions', { action: 'retry', phase: 4 });
    expect(res.body).toEqual({ outcome: 'refused', message: 'retryPhase: phase 4 is running; only a failed, completed or skipped phase can be retried' });
    const skip = await post('/api/runs/held-run/actions', { action: 'skip', phase: '1' });
    expect(skip.body.outcome).toBe('refused');
    expect(newNotices(['a', 'b', 'a'], ['a', 'b', 'a', 'a', 'c'])).toEqual(['a', 'c']);
  });

  it('marks a failed phase done with an output, and shows a refusal the update throws at once', async () => {
    const refused = await post('/api/runs/held-run/actions', { action: 'mark-done', phase: '1', output: { context: { rows: 3 } } });
    expect(refused.body).toEqual({ outcome: 'refused', message: 'markPhaseDone: phase 1 is completed; only a failed phase or one awaiting an agent can be marked done' });
    const failedKey = '2';
    runs.get('held-run')!.s.phases[failedKey]!.state = 'failed'; // an earlier test retried it
    const done = await post('/api/runs/held-run/actions', { action: 'mark-done', phase: failedKey, output: { context: { rows: 3 }, artifacts: {} } });
    expect(done.body).toEqual({ outcome: 'done', message: `Phase ${failedKey} is marked done with your output; its dependants may run.` });
    expect(runs.get('held-run')!.sent).toContain(`mark-done ${failedKey} {"context":{"rows":3},"artifacts":{}}`);
    expect((await post('/api/runs/held-run/actions', { action: 'mark-done', phase: failedKey, output: { context: 5 } })).status).toBe(400);
  });

  it('hands a pending phase to an agent, says so once the status shows it, and needs "to"', async () => {
    expect((await post('/api/runs/held-run/actions', { action: 'hand', phase: '3' })).body).toEqual({ outcome: 'refused', message: 'hand needs "to": "agent" or "worker".' });
    expect((await post('/api/runs/held-run/actions', { action: 'hand', phase: '4', to: 'agent' })).body).toEqual({ outcome: 'refused', message: 'handPhase: phase 4 is running; only a pending or failed phase can be handed on' });
    const res = await post('/api/runs/held-run/actions', { action: 'hand', phase: '3', to: 'agent' });
    expect(res.body).toEqual({ outcome: 'done', message: 'Phase 3 is handed to an external agent: it is pending now.' });
    expect(runs.get('held-run')!.sent).toContain('hand 3 agent');
  });

  it('pauses, resumes and aborts; a closed run accepts nothing', async () => {
    expect((await post('/api/runs/held-run/actions', { action: 'pause' })).body.outcome).toBe('done');
    expect((await post('/api/runs/held-run/actions', { action: 'resume' })).body.outcome).toBe('done');
    expect((await post('/api/runs/held-run/actions', { action: 'abort' })).body).toEqual({ outcome: 'done', message: 'The run was aborted: it ended canceled.' });
    expect((await post('/api/runs/held-run/actions', { action: 'retry', phase: '2' })).body).toEqual({ outcome: 'refused', message: 'The run has ended (canceled); it accepts nothing more.' });
  });

  it('refuses what is not an action, or does not come from the page', async () => {
    expect((await post('/api/runs/held-run/actions', { action: 'delete' })).status).toBe(400);
    expect((await post('/api/runs/held-run/actions', { action: 'pause', extra: 1 })).status).toBe(400);
    // A form post from another site: not JSON, or JSON from another origin.
    expect((await post('/api/runs/held-run/actions', { action: 'pause' }, { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await post('/api/runs/held-run/actions', { action: 'pause' }, { 'Content-Type': 'application/json', Origin: 'http://evil.example' })).status).toBe(403);
    // A name that resolves to this machine (DNS rebinding): the Host is not the server's.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${ui.url}/api/runs`, { headers: { Host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});
