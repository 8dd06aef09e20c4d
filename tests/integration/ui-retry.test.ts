/**
 * An operator retries a held phase through the real Temporal Web UI: headless Chromium opens the run's
 * page on the test dev server, reads the run's current details (Baton's Markdown table of phases), and
 * sends `retryPhase` with the request its current details show (copied unchanged) through the UI's own
 * "Send a Signal" dialog.
 *
 * Drives the Chromium that scripts/chromium.sh finds or installs (Debian's `chromium`, from the test's global
 * setup; $CHROMIUM_PATH chooses another) through the `playwright-core` dev dependency (no browser download).
 * The browser only ever talks to the loopback UI: every other request is aborted.
 * Screenshots of each step go to test-results/ui/.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { Orchestrator } from '../../src/client/orchestrator.js';
import { fixturePhase, ROOT, tempDir, testClient, until } from '../support/baton.js';
import { temporalUiBrowserForFile, within } from '../support/browser.js';

const SHOTS = path.join(ROOT, 'test-results', 'ui');
const UI_TIMEOUT = 15_000; // any single UI action or wait
const RUN_TIMEOUT = 30_000; // the run reaching a state

const ui = temporalUiBrowserForFile(SHOTS);

/**
 * The cells of the run's current-details row for one phase. The UI renders the Markdown in an iframe of its own;
 * look in every frame for a table row naming the phase, rather than relying on the iframe's id.
 */
async function phaseRow(page: Page, phaseName: string, state: string): Promise<string[]> {
  const deadline = Date.now() + UI_TIMEOUT;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      const row = frame.getByRole('row').filter({ hasText: phaseName }).filter({ has: frame.getByRole('cell', { name: state, exact: true }) });
      // The UI re-renders the details iframe now and then; a frame detached mid-read is just read again.
      const cells = await row
        .first()
        .getByRole('cell')
        .allInnerTexts()
        .catch(() => []);
      if (cells.length > 0) return cells;
    }
    await page.waitForTimeout(250);
  }
  const seen = await Promise.all(page.frames().map((f) => f.locator('body').innerText({ timeout: 1_000 }).catch(() => '')));
  throw new Error(`no current-details row for "${phaseName}" in state "${state}" within ${UI_TIMEOUT / 1000}s; frames showed:\n${seen.join('\n---\n')}`);
}

/** The request a held run's current details ask for: the text of their JSON code block, as a user copies it. */
async function requestInDetails(page: Page): Promise<string> {
  const deadline = Date.now() + UI_TIMEOUT;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      const blocks = await frame.locator('pre code, pre').allInnerTexts().catch(() => [] as string[]);
      const request = blocks.map((b) => b.trim()).find((b) => b.startsWith('{'));
      if (request) return request;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no JSON code block in the current details within ${UI_TIMEOUT / 1000}s`);
}

describe('Temporal Web UI', () => {
  it('retries a held phase with the UI\'s Send a Signal dialog', { timeout: 90_000 }, async () => {
    const context = ui.context;
    if (!context) throw new Error(`the Web UI test needs Chromium:\n${inject('chromiumProblem')}`);
    // 1. A run holding on phase 1, which fails while the flag file exists.
    const workdir = await tempDir();
    const flag = path.join(workdir, 'broken');
    await writeFile(flag, '');
    const run = await new Orchestrator(await testClient()).start(
      {
        name: 'ui-retry',
        workdir,
        phases: [
          fixturePhase(0),
          { id: 1, name: 'Flaky step', depends_on: [0], command: ['sh', '-c', 'test ! -e "$BATON_WORKDIR/broken" || { echo "still broken" >&2; exit 1; }'] },
          fixturePhase(2, [1]),
        ],
      },
      { failed_phase_policy: 'hold' },
    );
    const held = await until(run, 'held', (s) => s.state === 'held', RUN_TIMEOUT);
    expect(held.phases['1']!.state).toBe('failed');
    const attemptsBefore = held.phases['1']!.attempts;

    // 2. Fix the cause, then retry from the UI.
    await rm(flag);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    page.setDefaultNavigationTimeout(UI_TIMEOUT);
    await page.goto(`${inject('temporalUiUrl')}/namespaces/default/workflows/${run.runId}`);
    await expect.poll(() => page.getByRole('heading', { level: 1, name: run.runId }).isVisible(), { timeout: UI_TIMEOUT }).toBe(true);
    await page.getByRole('button', { name: 'More Actions' }).waitFor();
    await ui.shot(page, 'run-page');

    // The run's current details, under the "User Metadata" tab: phase 1 failed.
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    await page.getByRole('heading', { name: 'Current Details' }).waitFor();
    const failedRow = await phaseRow(page, 'Flaky step', 'failed');
    expect([...failedRow.slice(0, 4), failedRow[6]]).toEqual(['1', 'Flaky step', 'failed', String(attemptsBefore), 'baton-default']);
    expect(failedRow[7]).toContain('still broken');
    // Action needed: the request to send, in a code block, which copies as valid JSON (text would get curly quotes).
    const hint = await requestInDetails(page);
    expect(JSON.parse(hint)).toEqual({ phase: 1 });
    await ui.shot(page, 'current-details-failed');

    await page.getByRole('button', { name: 'More Actions' }).click();
    const signalItem = page.getByRole('menuitem', { name: 'Send a Signal' });
    await signalItem.waitFor();
    await ui.shot(page, 'actions-menu');
    await signalItem.click();

    const dialog = page.getByRole('dialog', { name: 'Send a Signal' });
    await dialog.waitFor();
    await ui.shot(page, 'signal-dialog');
    // The signal name: a select listing the handlers the workflow reports (with their descriptions),
    // plus "Custom" to type any name. Pick retryPhase from the list; type it if the list lacks it.
    await dialog.getByRole('button', { name: 'Select a signal' }).click();
    const listed = dialog.getByRole('option', { name: /^retryPhase\b/ });
    const isListed = await listed.waitFor({ timeout: 5_000 }).then(
      () => true,
      () => false,
    );
    await ui.shot(page, 'signal-list');
    if (isListed) {
      await listed.click();
    } else {
      await dialog.getByRole('option', { name: /^Custom\b/ }).click();
      await dialog.getByRole('textbox', { name: 'Signal name' }).fill('retryPhase');
    }
    // The input: a JSON editor (CodeMirror, a contenteditable textbox labelled "Data").
    // The hint, pasted unchanged.
    await dialog.getByRole('textbox', { name: 'Data' }).fill(hint);
    await expect.poll(() => dialog.getByRole('textbox', { name: 'Data' }).innerText(), { timeout: UI_TIMEOUT }).toBe(hint);
    const submit = dialog.getByRole('button', { name: 'Submit' });
    await expect.poll(() => submit.isEnabled(), { timeout: UI_TIMEOUT }).toBe(true);
    await ui.shot(page, 'signal-filled');
    await submit.click();
    await dialog.waitFor({ state: 'hidden' });
    // The UI confirms with a toast that slides in at the bottom right for a few seconds (its text is also
    // in an off-screen live region for screen readers): wait until one is fully in view, then shoot it.
    await expect
      .poll(
        () =>
          page.getByText('Workflow signaled.').evaluateAll(
            (els, view) =>
              els.some((el) => {
                const box = el.getBoundingClientRect();
                return box.width > 10 && box.left >= 0 && box.top >= 0 && box.right <= view.width && box.bottom <= view.height;
              }),
            page.viewportSize()!,
          ),
        { timeout: UI_TIMEOUT, interval: 100 },
      )
      .toBe(true);
    await ui.shot(page, 'signal-sent');

    // 3. The retry ran phase 1 again, and the run went on to the end.
    const final = await within(RUN_TIMEOUT, 'the run finishing after the retry', run.finalStatus());
    expect(final.state).toBe('completed');
    expect(final.phases['1']!.state).toBe('completed');
    expect(final.phases['1']!.attempts).toBeGreaterThan(attemptsBefore);
    expect(final.phases['2']!.state).toBe('completed');

    // The UI shows it too, once reloaded.
    await page.reload();
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    await page.getByRole('heading', { name: 'Current Details' }).waitFor();
    expect((await phaseRow(page, 'Flaky step', 'completed'))[3]).toBe(String(final.phases['1']!.attempts));
    await ui.shot(page, 'run-completed');
    await page.close();
  });
});

