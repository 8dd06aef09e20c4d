/**
 * Chromium for browser tests, the one way: headless, with the flags this machine needs, and
 * contexts that may reach only the given origins (the Temporal UI also asks the internet for a news
 * feed: refused), so a test never leaves 127.0.0.1.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
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
 * whose context reaches only the UI, and `shotsDir` emptied; after them, both stopped. `context`
 * stays undefined when there is no Chromium (the tests then fail with scripts/chromium.sh's message,
 * `inject('chromiumProblem')`). `shot` saves a numbered screenshot of each step in `shotsDir`.
 */
export function temporalUiBrowserForFile(shotsDir: string): {
  readonly context: BrowserContext | undefined;
  shot(page: Page, name: string, fullPage?: boolean): Promise<void>;
} {
  let worker: WorkerProcess | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let step = 0;
  beforeAll(async () => {
    await rm(shotsDir, { recursive: true, force: true });
    await mkdir(shotsDir, { recursive: true });
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
    async shot(page, name, fullPage = false) {
      step += 1;
      await page.screenshot({ path: path.join(shotsDir, `${String(step).padStart(2, '0')}-${name}.png`), fullPage, timeout: 15_000 });
    },
  };
}

/** Rejects after `ms` instead of waiting forever. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000}s`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
