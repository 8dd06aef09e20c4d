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
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { type Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from '../support/baton.js';
import { temporalUiBrowserForFile, within } from '../support/browser.js';
import { openRunPage, runHeldOnFlakyStep, sendFromActionsMenu, UI_TIMEOUT } from '../support/temporal-ui.js';

const SHOTS = path.join(ROOT, 'test-results', 'ui');
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
    const { run, held, flag } = await runHeldOnFlakyStep('ui-retry', RUN_TIMEOUT);
    expect(held.phases['1']!.state).toBe('failed');
    const attemptsBefore = held.phases['1']!.attempts;

    // 2. Fix the cause, then retry from the UI.
    await rm(flag);
    const page = await openRunPage(context, run.runId);
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

    // More Actions → Send a Signal, retryPhase (picked from the handlers the workflow reports), the hint pasted unchanged.
    const dialog = await sendFromActionsMenu(page, 'Signal', 'retryPhase', hint, (step) => ui.shot(page, `signal-${step}`));
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

