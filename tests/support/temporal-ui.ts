/**
 * Driving the real Temporal Web UI in browser tests: a run held on a phase that can be fixed, the
 * run's page, and the actions menu's Send a Signal / Send an Update dialog (one component, two names).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { Orchestrator, type RunHandle } from '../../src/client/orchestrator.js';
import type { RunStatus } from '../../src/core/api/status.js';
import { fixturePhase, tempDir, testClient, until } from './baton.js';

/** Any single UI action or wait. */
export const UI_TIMEOUT = 15_000;

/** A run held on phase 1, "Flaky step", which fails while `flag` exists: remove it, and a retry succeeds. */
export async function runHeldOnFlakyStep(name: string, timeoutMs = 30_000): Promise<{ run: RunHandle; held: RunStatus; flag: string }> {
  const workdir = await tempDir();
  const flag = path.join(workdir, 'broken');
  await writeFile(flag, '');
  const run = await new Orchestrator(await testClient()).start(
    {
      name,
      workdir,
      phases: [
        fixturePhase(0),
        { id: 1, name: 'Flaky step', depends_on: [0], command: ['sh', '-c', 'test ! -e "$BATON_WORKDIR/broken" || { echo "still broken" >&2; exit 1; }'] },
        fixturePhase(2, [1]),
      ],
    },
    { failed_phase_policy: 'hold' },
  );
  const held = await until(run, 'held', (s) => s.state === 'held', timeoutMs);
  return { run, held, flag };
}

/** The run's page in the Web UI, once its heading shows. */
export async function openRunPage(context: BrowserContext, runId: string): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  page.setDefaultNavigationTimeout(UI_TIMEOUT);
  await page.goto(`${inject('temporalUiUrl')}/namespaces/default/workflows/${runId}`);
  await expect.poll(() => page.getByRole('heading', { level: 1, name: runId }).isVisible(), { timeout: UI_TIMEOUT }).toBe(true);
  return page;
}

/**
 * More Actions → Send a Signal (or Send an Update): picks `name` from the handlers the workflow reports
 * (typed under Custom if the list lacks it), types `input` into the JSON editor, submits, and returns
 * the dialog. `shot` is called after each step ('dialog', 'list', 'filled').
 */
export async function sendFromActionsMenu(page: Page, kind: 'Signal' | 'Update', name: string, input: string, shot: (step: string) => Promise<void>): Promise<Locator> {
  const title = `Send a${kind === 'Update' ? 'n' : ''} ${kind}`;
  await page.getByRole('button', { name: 'More Actions' }).click();
  const item = page.getByRole('menuitem', { name: title });
  await item.waitFor();
  await item.click();
  const dialog = page.getByRole('dialog').filter({ hasText: title });
  await dialog.waitFor();
  await shot('dialog');
  const picker = dialog.getByRole('button', { name: new RegExp(`^Select an? ${kind}`, 'i') });
  if (await picker.isVisible().catch(() => false)) {
    await picker.click();
    const listed = dialog.getByRole('option', { name: new RegExp(`^${name}\\b`) });
    const isListed = await listed.waitFor({ timeout: 5_000 }).then(
      () => true,
      () => false,
    );
    await shot('list');
    if (isListed) await listed.click();
    else {
      await dialog.getByRole('option', { name: /^Custom\b/ }).click();
      await dialog.getByRole('textbox', { name: /name/i }).first().fill(name);
    }
  } else {
    await dialog.getByRole('textbox', { name: /name/i }).first().fill(name);
  }
  // The input: a JSON editor (CodeMirror, a contenteditable textbox labelled "Data").
  await dialog.getByRole('textbox', { name: 'Data' }).fill(input);
  await expect.poll(() => dialog.getByRole('textbox', { name: 'Data' }).innerText(), { timeout: UI_TIMEOUT }).toBe(input);
  const submit = dialog.getByRole('button', { name: 'Submit' });
  await expect.poll(() => submit.isEnabled(), { timeout: UI_TIMEOUT }).toBe(true);
  await shot('filled');
  await submit.click();
  return dialog;
}
