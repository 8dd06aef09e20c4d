/**
 * The bad-input catalogue: names that are Markdown, in the real Temporal Web UI. A plan and a phase
 * named with a heading, a link, HTML and table pipes, whose phase fails with an error made of the
 * same, show in the run's current details as written: no heading, no link, the table's five
 * columns intact; so does a name of every ASCII punctuation character (but for its quotes, which the
 * UI's renderer shows curly whatever is done). Before issue 14 they went in unescaped, and the run
 * id made from such a plan name could not be opened in the UI. Drives the Chromium
 * scripts/chromium.sh finds, as ui-retry.test.ts does; the browser only talks to the loopback UI.
 */
import path from 'node:path';
import { type Frame } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { Orchestrator } from '../../src/client/orchestrator.js';
import { ROOT, tempDir, testClient, until } from '../support/baton.js';
import { temporalUiBrowserForFile } from '../support/browser.js';

const UI_TIMEOUT = 15_000;
const HOSTILE = '# Deploy | [docs](https://evil.example) <b>*now*</b> _x_ `y` ~~z~~ www.evil.example &amp;';
/** Every ASCII punctuation character, each on its own. */
const PUNCTUATION = `P ${Array.from('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~').join(' ')}`;

const ui = temporalUiBrowserForFile(path.join(ROOT, 'test-results', 'ui-names'));

/** The frame that shows the run's current details: the one with the phases' table. */
async function detailsFrame(frames: () => Frame[]): Promise<Frame> {
  const deadline = Date.now() + UI_TIMEOUT;
  while (Date.now() < deadline) {
    for (const frame of frames()) {
      const headers = await frame.getByRole('columnheader').allInnerTexts().catch(() => []);
      if (headers.join('|') === 'phase|name|state|attempts|took|blocked by|queue|last error') return frame;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no current details with the phases' table within ${UI_TIMEOUT / 1000}s`);
}

describe('names that are Markdown, in the Web UI', () => {
  it('show as written in the current details: no heading, no link, the table intact', { timeout: 90_000 }, async () => {
    const context = ui.context;
    if (!context) throw new Error(`the Web UI test needs Chromium:\n${inject('chromiumProblem')}`);
    const workdir = await tempDir();
    const run = await new Orchestrator(await testClient()).start({
      name: HOSTILE,
      workdir,
      phases: [{ id: 1, name: PUNCTUATION, command: ['true'] }, { id: 0, name: HOSTILE, command: ['node', '-e', `console.error(${JSON.stringify(`${HOSTILE}\n## Injected heading`)}); process.exit(1)`] }],
    });
    await until(run, 'the phase to fail', (s) => s.state === 'held');

    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    await page.goto(`${inject('temporalUiUrl')}/namespaces/default/workflows/${encodeURIComponent(run.runId)}`);
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    await page.getByRole('heading', { name: 'Current Details' }).waitFor();
    const frame = await detailsFrame(() => page.frames());

    const rows = frame.getByRole('row');
    expect(await rows.count()).toBe(3); // the header and the two phases: nothing split into more
    // Every cell but how long it took: that varies.
    const cells = async (n: number) => (await rows.nth(n).getByRole('cell').allInnerTexts()).filter((_, i) => i !== 4);
    expect(await cells(1)).toEqual(['1', PUNCTUATION.replace(/"/g, '“').replace(/'/g, '‘'), 'completed', '1', '', 'baton-default', '']);
    const failed = await cells(2);
    expect(failed.slice(0, 6)).toEqual(['0', HOSTILE, 'failed', '1', '', 'baton-default']);
    expect(failed[6]).toMatch(/^phase 0 \(/); // the error's start, as text
    expect(await frame.getByRole('link').count()).toBe(0);
    expect(await frame.getByRole('heading').count()).toBe(0);
    expect(await frame.locator('b, em, del, s').count()).toBe(0);
    // Code is only what Baton wrote: the request to send and commands, never a user's text.
    const code = await frame.locator('code').allInnerTexts();
    expect(code.length).toBeGreaterThan(0);
    for (const c of code.map((t) => t.trim())) expect(c).toMatch(/^(\{"phase":0\}|retryPhase|skipPhase|baton ui|baton (retry|status) [\w.-]+( 0)?)$/);
    const text = await frame.locator('body').innerText();
    expect(text).toContain(`${HOSTILE} · held`);
    expect(text).toContain('## Injected heading');
    expect(run.runId).toMatch(/^__Deploy____docs__https___evil\.example___b__now___b___x___y____z___www\.evil\.example__amp_-[0-9a-f]{8}$/);
    await run.abort();
  });
});
