/**
 * The operation updates through the real Temporal Web UI: headless Chromium opens a held run's page on
 * the test dev server and sends `retryPhase {"phase": 7}` with the UI's own "Send an Update" dialog: the
 * validator's refusal (`no phase 7; phases are 0, 1, 2`) shows in the UI at once; then
 * `retryPhase {"phase": 1}`, whose answer says what the run did, and the run completes.
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

const SHOTS = path.join(ROOT, 'test-results', 'ui-update');
const UI_TIMEOUT = 15_000; // any single UI action or wait
const RUN_TIMEOUT = 30_000; // the run reaching a state

const ui = temporalUiBrowserForFile(SHOTS);

/** Opens the run's actions menu → Send an Update, picks `name`, types `input` and submits; returns the dialog. */
async function sendUpdate(page: Page, name: string, input: string, label: string) {
  await page.getByRole('button', { name: 'More Actions' }).click();
  const item = page.getByRole('menuitem', { name: /Send an Update/i });
  await item.waitFor();
  await item.click();
  const dialog = page.getByRole('dialog').filter({ hasText: /Update/i });
  await dialog.waitFor();
  await ui.shot(page, `${label}-dialog`);
  const picker = dialog.getByRole('button', { name: /Select an update/i });
  if (await picker.isVisible().catch(() => false)) {
    await picker.click();
    const listed = dialog.getByRole('option', { name: new RegExp(`^${name}\\b`) });
    const isListed = await listed.waitFor({ timeout: 5_000 }).then(() => true, () => false);
    await ui.shot(page, `${label}-list`);
    if (isListed) await listed.click();
    else {
      await dialog.getByRole('option', { name: /^Custom\b/ }).click();
      await dialog.getByRole('textbox', { name: /name/i }).fill(name);
    }
  } else {
    await dialog.getByRole('textbox', { name: /name/i }).first().fill(name);
  }
  await dialog.getByRole('textbox', { name: 'Data' }).fill(input);
  await expect.poll(() => dialog.getByRole('textbox', { name: 'Data' }).innerText(), { timeout: UI_TIMEOUT }).toBe(input);
  const submit = dialog.getByRole('button', { name: 'Submit' });
  await expect.poll(() => submit.isEnabled(), { timeout: UI_TIMEOUT }).toBe(true);
  await ui.shot(page, `${label}-filled`);
  await submit.click();
  return dialog;
}

/** Whether `text` shows anywhere on the page (a dialog's error, a toast), in any frame. */
async function shows(page: Page, text: string): Promise<boolean> {
  const texts = await Promise.all(page.frames().map((f) => f.locator('body').innerText({ timeout: 1_000 }).catch(() => '')));
  return texts.some((t) => t.includes(text));
}

describe('Temporal Web UI', () => {
  it('refuses a bad retryPhase update in the UI with the reason, and takes a good one', { timeout: 90_000 }, async () => {
    const context = ui.context;
    if (!context) throw new Error(`the Web UI test needs Chromium:\n${inject('chromiumProblem')}`);
    const workdir = await tempDir();
    const flag = path.join(workdir, 'broken');
    await writeFile(flag, '');
    const run = await new Orchestrator(await testClient()).start({
      name: 'ui-update',
      workdir,
      phases: [
        fixturePhase(0),
        { id: 1, name: 'Flaky step', depends_on: [0], command: ['sh', '-c', 'test ! -e "$BATON_WORKDIR/broken" || { echo "still broken" >&2; exit 1; }'] },
        fixturePhase(2, [1]),
      ],
    });
    await until(run, 'held', (s) => s.state === 'held', RUN_TIMEOUT);
    await rm(flag);

    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    page.setDefaultNavigationTimeout(UI_TIMEOUT);
    await page.goto(`${inject('temporalUiUrl')}/namespaces/default/workflows/${run.runId}`);
    await expect.poll(() => page.getByRole('heading', { level: 1, name: run.runId }).isVisible(), { timeout: UI_TIMEOUT }).toBe(true);

    // A phase the plan does not have: the validator's words, in the UI, at once; nothing changed.
    const refusal = 'retryPhase: no phase 7; phases are 0, 1, 2';
    await sendUpdate(page, 'retryPhase', '{"phase": 7}', 'bad');
    await expect.poll(() => shows(page, refusal), { timeout: UI_TIMEOUT, interval: 200 }).toBe(true);
    await ui.shot(page, 'bad-refused');
    expect(await shows(page, 'at validator'), 'no stack trace for a user mistake').toBe(false);
    expect((await run.status()).phases['1']!.state).toBe('failed');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').filter({ hasText: /Update/i }).waitFor({ state: 'hidden' }).catch(() => page.reload());

    // The right one: the run retries phase 1 and completes.
    await sendUpdate(page, 'retryPhase', '{"phase": 1}', 'good');
    const final = await within(RUN_TIMEOUT, 'the run finishing after the retry', run.finalStatus());
    await ui.shot(page, 'good-sent');
    expect(final.state).toBe('completed');
    expect(final.phases['1']).toMatchObject({ state: 'completed', generation: 2 });
    await page.close();
  });
});
