/**
 * `baton ui` in a real browser: the 13-phase example (examples/consolidation) with its Lint check failing
 * until a flag file goes, shown as a graph with its states; the failed phase retried with the Retry button
 * until the run completes; a phase found by search. Then a 1,000-phase plan on the same page: folded,
 * searched into, zoomed.
 *
 * Runs the real `baton ui` (dist/cli/main.js) against the test dev server, and the Chromium that
 * scripts/chromium.sh finds or installs, through playwright-core; the browser may reach nothing but the
 * page's own server. Screenshots go to test-results/baton-ui/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Orchestrator } from '../../src/client/orchestrator.js';
import type { PhaseStatus, RunStatus } from '../../src/core/api/status.js';
import { startUiServer, type UiServer } from '../../src/web/server.js';
import type { RunsSource } from '../../src/web/source.js';
import { BATON, batonEnv, ROOT, startWorker, tempDir, testClient, until, type WorkerProcess } from '../support/baton.js';
import { launchChromium, loopbackContext } from '../support/browser.js';

const SHOTS = path.join(ROOT, 'test-results', 'baton-ui');
const EXAMPLE = path.join(ROOT, 'examples/consolidation');
const UI_TIMEOUT = 15_000;

let worker: WorkerProcess | undefined;
let ui: { proc: ChildProcess; url: string } | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;

/** Starts `baton ui --port 0` and reads the address it prints. */
async function startBatonUi(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [BATON, 'ui', '--port', '0'], { env: batonEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`baton ui did not start in 20s:\n${output}`)), 20_000);
    const read = (d: Buffer): void => {
      output += d.toString();
      const m = /baton ui serving (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1]! });
      }
    };
    proc.stdout.on('data', read);
    proc.stderr.on('data', read);
    proc.once('exit', (code) => reject(new Error(`baton ui exited with ${code}:\n${output}`)));
  });
}

/** Only the page's own server: no CDN, no fonts, nothing else (Temporal UI links are not followed). */
const newContext = (allowed: string[]) => loopbackContext(browser!, allowed, { width: 1500, height: 950 });

beforeAll(async () => {
  await rm(SHOTS, { recursive: true, force: true });
  await mkdir(SHOTS, { recursive: true });
  const executablePath = inject('chromiumPath');
  if (!executablePath) return; // the tests fail with scripts/chromium.sh's message
  [worker, ui] = await Promise.all([startWorker(['--config', path.join(EXAMPLE, 'orchestrator_config.json')]), startBatonUi()]);
  browser = await launchChromium(executablePath);
  context = await newContext([new URL(ui.url).origin]);
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  ui?.proc.kill('SIGTERM');
  await worker?.stop();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), timeout: UI_TIMEOUT });
}

/** Every phase node's state, by phase id. */
function nodeStates(page: Page): Promise<Record<string, string>> {
  return page.locator('.node.phase').evaluateAll((nodes) => Object.fromEntries(nodes.map((n) => [n.getAttribute('data-phase')!, n.getAttribute('data-state')!])));
}

function pageFor(ctx: BrowserContext): Promise<Page> {
  return ctx.newPage().then((page) => {
    page.setDefaultTimeout(UI_TIMEOUT);
    page.setDefaultNavigationTimeout(UI_TIMEOUT);
    return page;
  });
}

describe('baton ui', () => {
  it('shows the 13-phase example as a graph, retries its failed phase with the Retry button until the run completes, and finds a phase', { timeout: 180_000 }, async () => {
    if (!context) throw new Error(`the browser test needs Chromium:\n${inject('chromiumProblem')}`);
    // 1. The example, in a workdir of its own, with phase 8 (Lint check) failing while a flag file is there.
    const workdir = await tempDir('baton-ui-');
    const flag = path.join(workdir, 'break-lint');
    await writeFile(flag, '');
    const plan = JSON.parse(await readFile(path.join(EXAMPLE, 'plan.json'), 'utf8')) as { workdir: string; base_dir?: string; phases: Array<Record<string, unknown>> };
    plan.workdir = workdir;
    plan.base_dir = EXAMPLE;
    const lint = plan.phases.find((p) => p.id === 8)!;
    lint.command = ['sh', '-c', 'if [ -e "$BATON_WORKDIR/break-lint" ]; then echo "lint-check: cannot read the lint rules ($BATON_WORKDIR/break-lint is in the way)" >&2; exit 1; fi; exec node phases/lint-check.mjs'];
    lint.retries = 0;
    const config = JSON.parse(await readFile(path.join(EXAMPLE, 'orchestrator_config.json'), 'utf8')) as Record<string, unknown>;
    const run = await new Orchestrator(await testClient()).start(plan as never, config, { runId: `consolidation-ui-${Date.now()}` });
    const held = await until(run, 'the run to hold on phase 8', (s) => s.state === 'held', 120_000);
    expect(held.phases['8']!.state).toBe('failed');

    // 2. The runs: this one held, before the open runs that are not.
    const page = await pageFor(context);
    await page.goto(ui!.url);
    const row = page.locator(`tr[data-run="${run.runId}"]`);
    await expect.poll(() => row.getAttribute('data-state'), { timeout: UI_TIMEOUT }).toBe('held');
    await expect.poll(() => row.locator('td.needs').innerText()).toBe('phase 8 failed');
    const order = await page.locator('table.runs tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')));
    expect(order.indexOf('held')).toBe(0);
    await shot(page, '01-runs');

    // 3. The run: the graph of its 13 phases, in their states.
    await row.getByRole('link', { name: run.runId }).click();
    await page.waitForURL(`**/runs/${run.runId}`);
    await expect.poll(() => page.locator('.node.phase').count(), { timeout: UI_TIMEOUT }).toBe(13);
    const expected: Record<string, string> = {};
    for (let id = 0; id < 13; id++) expected[String(id)] = id === 8 ? 'failed' : id >= 10 ? 'pending' : 'completed';
    await expect.poll(() => nodeStates(page), { timeout: UI_TIMEOUT }).toEqual(expected);
    expect(await page.locator('.node.phase[data-condition="blocked"]').evaluateAll((n) => n.map((e) => e.getAttribute('data-phase')))).toEqual(['10', '11', '12']);
    await expect.poll(() => page.locator('.node.phase[data-phase="10"] .sub').textContent()).toBe('pending · blocked by 8');
    await expect.poll(() => page.locator('.held').innerText()).toContain('phase 8 (Lint check) failed');
    const temporalLink = page.getByRole('link', { name: 'Open in Temporal UI' });
    expect(await temporalLink.getAttribute('href')).toBe(`${inject('temporalUiUrl')}/namespaces/default/workflows/${run.runId}`);
    await shot(page, '02-run-held');

    // 4. Phase 8: its error and its log, then Retry once the cause is gone.
    await page.locator('.node.phase[data-phase="8"]').click();
    const panel = page.locator('aside.phase-panel');
    await expect.poll(() => panel.getByRole('heading', { level: 2 }).innerText()).toBe('8 · Lint check');
    await expect.poll(() => panel.locator('.error-text').innerText()).toContain('cannot read the lint rules');
    await expect.poll(() => panel.locator('.log-text').innerText(), { timeout: UI_TIMEOUT }).toContain('lint-check: cannot read the lint rules');
    await expect.poll(() => panel.locator('.package').innerText()).toContain(`runs/${run.runId}/handoffs/phase_8.json`);
    const skip = panel.getByRole('button', { name: 'Skip', exact: true });
    expect(await skip.isEnabled()).toBe(true);
    expect(await panel.getByRole('button', { name: 'Mark done', exact: true }).isEnabled()).toBe(true);
    await shot(page, '03-phase-failed');

    // A request the run refuses (here, a phase it does not have) comes back at once, in the update validator's words.
    const refused = await page.evaluate(
      async (url) => (await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'retry', phase: '99' }) })).json(),
      `/api/runs/${encodeURIComponent(run.runId)}/actions`,
    );
    expect(refused).toEqual({ outcome: 'refused', message: 'retryPhase: no phase 99; phases are 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12' });

    await rm(flag);
    const attemptsBefore = held.phases['8']!.attempts;
    await panel.getByRole('button', { name: 'Retry', exact: true }).click();
    await expect.poll(() => panel.locator('.result').innerText(), { timeout: UI_TIMEOUT }).toMatch(/^Phase 8 runs again: it is (pending|ready|running|completed) now\.$/);

    // 5. The run goes on to the end, and the graph follows it.
    const done: Record<string, string> = Object.fromEntries(Object.keys(expected).map((k) => [k, 'completed']));
    await expect.poll(() => nodeStates(page), { timeout: 120_000, interval: 500 }).toEqual(done);
    const final: RunStatus = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases['8']!.attempts).toBeGreaterThan(attemptsBefore);
    await expect.poll(() => page.locator('.run-title .badge').first().innerText()).toBe('completed');
    expect(await panel.getByRole('button', { name: 'Retry', exact: true }).isDisabled()).toBe(true);
    await expect.poll(() => panel.locator('.log-text').innerText(), { timeout: UI_TIMEOUT }).not.toContain('cannot read the lint rules');
    await shot(page, '04-run-completed');

    // 6. Search: "perf" finds phase 12 (Performance testing); Enter goes to it.
    const search = page.getByRole('searchbox', { name: 'Find a phase' });
    await search.fill('perf');
    await expect.poll(() => page.locator('.node.phase.match').evaluateAll((n) => n.map((e) => e.getAttribute('data-phase')))).toEqual(['12']);
    await search.press('Enter');
    await expect.poll(() => panel.getByRole('heading', { level: 2 }).innerText()).toBe('12 · Performance testing');
    expect(new URL(page.url()).searchParams.get('phase')).toBe('12');
    await shot(page, '05-search');
    await page.close();
  });

  it('hands a pending phase to an agent and back, and marks a failed phase done with an output: one its output_schema refuses, shown at once, then a good one, and the run completes', { timeout: 120_000 }, async () => {
    if (!context) throw new Error(`the browser test needs Chromium:\n${inject('chromiumProblem')}`);
    const workdir = await tempDir('baton-ui-mark-');
    const schema = { type: 'object', required: ['rows'], properties: { rows: { type: 'integer', minimum: 0 } } };
    const run = await new Orchestrator(await testClient()).start(
      {
        name: 'mark-done-ui',
        workdir,
        phases: [
          { id: 'load', name: 'Load rows', command: ['sh', '-c', 'echo "the source is offline" >&2; exit 1'], retries: 0, output_schema: schema },
          { id: 'report', name: 'Report', depends_on: ['load'], command: ['node', '-e', "const p = JSON.parse(require('fs').readFileSync(process.env.BATON_HANDOFF, 'utf8')); require('fs').writeFileSync(process.env.BATON_OUTPUT, JSON.stringify({ context: { saw: p.dependency_contexts.load.context.rows }, artifacts: {} }))"] },
        ],
      },
      {},
      { runId: `mark-done-ui-${Date.now()}` },
    );
    await until(run, 'the run to hold on load', (s) => s.state === 'held', 60_000);

    const page = await pageFor(context);
    await page.goto(`${ui!.url}/runs/${run.runId}`);
    const panel = page.locator('aside.phase-panel');
    // The pending dependant handed to an external agent and back to a worker, each from its own button.
    await page.locator('.node.phase[data-phase="report"]').click();
    await expect.poll(() => panel.getByRole('heading', { level: 2 }).innerText()).toBe('report · Report');
    await panel.getByRole('button', { name: 'Hand to agent', exact: true }).click();
    await expect.poll(() => panel.locator('.result').innerText(), { timeout: UI_TIMEOUT }).toBe('Phase report is handed to an external agent: it is pending now.');
    expect((await run.status()).phases.report!.separate_agent).toBe(true);
    await expect.poll(() => panel.getByRole('button', { name: 'Hand to worker', exact: true }).isEnabled(), { timeout: UI_TIMEOUT }).toBe(true);
    await panel.getByRole('button', { name: 'Hand to worker', exact: true }).click();
    await expect.poll(() => panel.locator('.result').innerText(), { timeout: UI_TIMEOUT }).toBe('Phase report is handed to a worker: it is pending now.');
    expect((await run.status()).phases.report!.separate_agent).toBe(false);

    await page.locator('.node.phase[data-phase="load"]').click();
    await expect.poll(() => panel.getByRole('heading', { level: 2 }).innerText()).toBe('load · Load rows');
    await panel.getByRole('button', { name: 'Mark done', exact: true }).click();
    const output = panel.getByRole('textbox', { name: 'Output (JSON)' });
    // Refused by the phase's output_schema, in the run's words, at once; the phase stays failed.
    await output.fill('{"context": {"rows": "three"}, "artifacts": {}}');
    await panel.getByRole('button', { name: 'Mark done with this output' }).click();
    await expect.poll(() => panel.locator('.result').innerText(), { timeout: UI_TIMEOUT }).toMatch(/^The run refused: markPhaseDone: .*rows/);
    expect((await run.status()).phases.load!.state).toBe('failed');
    await shot(page, '09-mark-done-refused');
    // A good output: the phase completes with it, and its dependant runs on it.
    await output.fill('{"context": {"rows": 3}, "artifacts": {}}');
    await panel.getByRole('button', { name: 'Mark done with this output' }).click();
    await expect.poll(() => panel.locator('.result').innerText(), { timeout: UI_TIMEOUT }).toBe('Phase load is marked done with your output; its dependants may run.');
    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    expect(final.phases.load).toMatchObject({ state: 'completed', context: { context: { rows: 3 } }, provenance: { via: 'operator' } });
    expect(final.phases.report!.context!.context).toEqual({ saw: 3 });
    await expect.poll(() => nodeStates(page), { timeout: UI_TIMEOUT }).toEqual({ load: 'completed', report: 'completed' });
    await shot(page, '10-mark-done-completed');
    await page.close();
  });

  it('keeps a 1,000-phase plan usable: finished layers folded, a search unfolds its layer, zoom and fit', { timeout: 60_000 }, async () => {
    if (!browser) throw new Error(`the browser test needs Chromium:\n${inject('chromiumProblem')}`);
    // The same page and server, in this process, on a stand-in run of 20 layers of 50 phases: 15 done, one failed.
    const phases: Record<string, PhaseStatus> = {};
    const at = (secondsAgo: number): string => new Date(Date.now() - secondsAgo * 1000).toISOString();
    for (let l = 0; l < 20; l++) {
      for (let i = 0; i < 50; i++) {
        const key = `p${l}-${i}`;
        const state = l < 15 ? 'completed' : l === 15 && i === 7 ? 'failed' : l === 15 ? 'running' : 'pending';
        phases[key] = {
          id: key, name: `Shard ${i} of step ${l}`, state, attempts: state === 'pending' ? 0 : 1, generation: state === 'pending' ? 0 : 1,
          resource_class: 'default', task_queue: 'baton-default', scheduled_at: null, started_at: state === 'pending' ? null : at(600 - l * 30),
          finished_at: state === 'completed' || state === 'failed' ? at(597 - l * 30) : null,
          depends_on: l === 0 ? [] : [`p${l - 1}-${i}`, `p${l - 1}-${(i + 1) % 50}`], separate_agent: false,
          ...(state === 'failed' ? { error: 'shard 7: out of memory' } : {}),
        };
      }
    }
    const status: RunStatus = {
      execution_id: 'big-run', plan: 'big', workdir: '/nonexistent', handoffs_enabled: false, state: 'held', paused: false,
      started_at: at(620), finished_at: null, notices: [], phases,
    };
    const source: RunsSource = {
      listRuns: async () => ({ open: [], closed: [], more: false, queries: [] }),
      run: () => ({
        describe: async () => ({ runId: 'r1', executionStatus: 'running' }),
        status: async () => status,
        retry: async () => undefined, skip: async () => undefined, markDone: async () => undefined, hand: async () => undefined, pause: async () => undefined, resume: async () => undefined, abort: async () => undefined,
      }),
    };
    const big: UiServer = await startUiServer({ source, connection: { address: inject('temporalAddress'), namespace: 'default' }, assetsDir: path.join(ROOT, 'dist/web/assets'), port: 0 });
    const ctx = await newContext([new URL(big.url).origin]);
    try {
      const page = await pageFor(ctx);
      const started = Date.now();
      await page.goto(`${big.url}/runs/big-run`);
      // Layers 0-14 (750 phases) are one node; the 250 phases still in play are drawn.
      await expect.poll(() => page.locator('.node.phase').count(), { timeout: UI_TIMEOUT }).toBe(250);
      const shownMs = Date.now() - started;
      expect(await page.locator('.node.fold').getAttribute('data-count')).toBe('750');
      expect(await page.locator('#fold-finished').isChecked()).toBe(true);
      // It opens on what needs eyes: the failed phase, in view and readable.
      const canvas = (await page.locator('.canvas').boundingBox())!;
      const failed = (await page.locator('.node.phase[data-state="failed"]').boundingBox())!;
      expect(await page.locator('.node.phase[data-state="failed"]').getAttribute('data-phase')).toBe('p15-7');
      expect(failed.x).toBeGreaterThan(canvas.x);
      expect(failed.x + failed.width).toBeLessThan(canvas.x + canvas.width);
      expect(Number(await page.locator('.canvas').getAttribute('data-zoom'))).toBeGreaterThanOrEqual(0.8);
      await shot(page, '06-large-folded');

      // Search into the folded layers: the layer opens and the phase is chosen and centred.
      const search = page.getByRole('searchbox', { name: 'Find a phase' });
      await search.fill('p3-7');
      await search.press('Enter');
      await expect.poll(() => page.locator('.node.phase[data-phase="p3-7"]').getAttribute('class'), { timeout: UI_TIMEOUT }).toContain('selected');
      await expect.poll(() => page.locator('aside.phase-panel h2').innerText()).toBe('p3-7 · Shard 7 of step 3');
      expect(await page.locator('.node.phase').count()).toBe(300);
      const box = await page.locator('.node.phase[data-phase="p3-7"]').boundingBox();
      expect(box!.x).toBeGreaterThan(canvas.x);
      expect(box!.x + box!.width).toBeLessThan(canvas.x + canvas.width);
      await shot(page, '07-large-search');

      // Zoom and fit; then everything unfolded: 1,000 nodes.
      const zoom = (): Promise<number> => page.locator('.canvas').getAttribute('data-zoom').then(Number);
      const before = await zoom();
      await page.getByRole('button', { name: 'Zoom out' }).click();
      expect(await zoom()).toBeLessThan(before);
      await page.getByRole('button', { name: 'Fit' }).click();
      await page.locator('#fold-finished').uncheck();
      await expect.poll(() => page.locator('.node.phase').count(), { timeout: UI_TIMEOUT }).toBe(1000);
      await page.getByRole('button', { name: 'Fit' }).click();
      // So far out, the nodes are coloured tiles without words.
      expect(await page.locator('.canvas').getAttribute('class')).toContain('far');
      await shot(page, '08-large-unfolded');
      console.log(`1,000-phase plan: graph shown ${shownMs} ms after navigation (250 nodes, 15 layers folded)`);
      await page.close();
    } finally {
      await ctx.close();
      await big.close();
    }
  });
});
