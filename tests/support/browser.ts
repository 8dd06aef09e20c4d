/**
 * Chromium for browser tests, the one way: headless, with the flags this machine needs, and
 * contexts that may reach only the given origins (the Temporal UI also asks the internet for a news
 * feed: refused), so a test never leaves 127.0.0.1.
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

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
