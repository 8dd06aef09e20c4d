/**
 * Chromium for browser tests, the one way: headless, with the flags this machine needs, and
 * contexts that may reach only the given origins (the Temporal UI also asks the internet for a news
 * feed: refused), so a test never leaves 127.0.0.1.
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, inject } from 'vitest';
import { startWorker, type WorkerProcess } from './baton.js';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** A context whose requests reach only `origins` (and data: and blob: URLs); everything else is aborted. */
export async function loopbackContext(browser: Browser, origins: string[], viewport = { width: 1400, height: 1000 }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport, serviceWorkers: 'block' });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (origins.some((origin) => url.startsWith(`${origin}/`)) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    return route.abort('blockedbyclient');
  });
  return context;
}

export async function loopbackBrowser(executablePath: string, origin: string): Promise<{ browser: Browser; context: BrowserContext }> {
  const browser = await launchChromium(executablePath);
  return { browser, context: await loopbackContext(browser, [origin]) };
}

/**
 * For a test file that drives the Temporal Web UI: before its tests, a Baton worker and Chromium
 * whose context reaches only the UI; after them, both stopped. `context` stays undefined when there
 * is no Chromium (the tests then fail with scripts/chromium.sh's message, `inject('chromiumProblem')`).
 */
export function temporalUiBrowserForFile(before?: () => Promise<void>): { readonly context: BrowserContext | undefined } {
  let worker: WorkerProcess | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  beforeAll(async () => {
    await before?.();
    const executablePath = inject('chromiumPath');
    if (!executablePath) return;
    worker = await startWorker([]);
    ({ browser, context } = await loopbackBrowser(executablePath, new URL(inject('temporalUiUrl')).origin));
  });
  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await worker?.stop();
  });
  return {
    get context() {
      return context;
    },
  };
}
