/**
 * The operation updates through the real Temporal Web UI: headless Chromium opens a held run's page on
 * the test dev server and sends `retryPhase {"phase": 7}` with the UI's own "Send an Update" dialog: the
 * validator's refusal (`no phase 7; phases are 0, 1, 2`) shows in the UI at once; then
 * `retryPhase {"phase": 1}`, whose answer says what the run did, and the run completes.
 *
 * Drives the Chromium that scripts/chromium.sh finds or installs (Debian's `chromium`, from the test's global
 * setup; $CHROMIUM_PATH chooses another) through the `playwright-core` dev dependency (no browser download).
 * The browser only ever talks to the loopback UI: every other request is aborted.
 * Screenshots of each step go to test-results/ui-update/.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { type Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from '../support/baton.js';
import { temporalUiBrowserForFile, within } from '../support/browser.js';
import { openRunPage, runHeldOnFlakyStep, sendFromActionsMenu, UI_TIMEOUT } from '../support/temporal-ui.js';

const SHOTS = path.join(ROOT, 'test-results', 'ui-update');
const RUN_TIMEOUT = 30_000; // the run reaching a state

const ui = temporalUiBrowserForFile(SHOTS);


/** Whether `text` shows anywhere on the page (a dialog's error, a toast), in any frame. */
async function shows(page: Page, text: string): Promise<boolean> {
  const texts = await Promise.all(page.frames().map((f) => f.locator('body').innerText({ timeout: 1_000 }).catch(() => '')));
  return texts.some((t) => t.includes(text));
}

describe('Temporal Web UI', () => {
  it('refuses a bad retryPhase update in the UI with the reason, and takes a good one', { timeout: 90_000 }, async () => {
    const context = ui.context;
    if (!context) throw new Error(`the Web UI test needs Chromium:\n${inject('chromiumProblem')}`);
    const { run, flag } = await runHeldOnFlakyStep('ui-update', RUN_TIMEOUT);
    await rm(flag);
    const page = await openRunPage(context, run.runId);

    // A phase the plan does not have: the validator's words, in the UI, at once; nothing changed.
    const refusal = 'retryPhase: no phase 7; phases are 0, 1, 2';
    await sendFromActionsMenu(page, 'Update', 'retryPhase', '{"phase": 7}', (step) => ui.shot(page, `bad-${step}`));
    await expect.poll(() => shows(page, refusal), { timeout: UI_TIMEOUT, interval: 200 }).toBe(true);
    await ui.shot(page, 'bad-refused');
    expect(await shows(page, 'at validator'), 'no stack trace for a user mistake').toBe(false);
    expect((await run.status()).phases['1']!.state).toBe('failed');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').filter({ hasText: /Update/i }).waitFor({ state: 'hidden' }).catch(() => page.reload());

    // The right one: the run retries phase 1 and completes.
    await sendFromActionsMenu(page, 'Update', 'retryPhase', '{"phase": 1}', (step) => ui.shot(page, `good-${step}`));
    const final = await within(RUN_TIMEOUT, 'the run finishing after the retry', run.finalStatus());
    await ui.shot(page, 'good-sent');
    expect(final.state).toBe('completed');
    expect(final.phases['1']).toMatchObject({ state: 'completed', generation: 2 });
    await page.close();
  });
});
