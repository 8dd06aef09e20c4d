/**
 * Starts one real Temporal dev server for the integration tests, on free loopback ports,
 * from the binary `temporal-dev.sh` installs (from a package registry, never a download
 * here), and stops it afterwards. Finds the Chromium the browser test drives, installing
 * Debian's package if need be (`scripts/chromium.sh`), meanwhile.
 */
import { execFileSync, spawn } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { BATON_SEARCH_ATTRIBUTES } from '../../src/core/api/search-attributes.js';
import { freePort } from './ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    temporalBinary: string;
    /** The browser for the Web UI test; empty when scripts/chromium.sh could not provide one. */
    chromiumPath: string;
    /** Why there is no browser: what scripts/chromium.sh said, with what to run. */
    chromiumProblem: string;
  }
}

/**
 * `scripts/chromium.sh path`, installing Chromium when it is missing and this user may. Its progress and
 * messages show on the terminal. A failure fails the browser test with the script's message (what to
 * run), rather than every integration test.
 */
function findChromium(): Promise<{ path: string; problem: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['scripts/chromium.sh', 'path'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = ''; // its tail: the script's own message comes last, after apt-get's
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.once('error', (err) => resolve({ path: '', problem: `could not run scripts/chromium.sh: ${err.message}` }));
    child.once('close', (code) => {
      if (code === 0 && stdout.trim()) resolve({ path: stdout.trim(), problem: '' });
      else resolve({ path: '', problem: stderr.trim() || `scripts/chromium.sh path exited with ${code}` });
    });
  });
}

let env: TestWorkflowEnvironment | undefined;

export async function setup(project: TestProject): Promise<void> {
  const browser = findChromium();
  const binary = execFileSync('bash', ['temporal-dev.sh', 'path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const uiPort = await freePort();
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: binary },
      ip: '127.0.0.1',
      uiPort,
      searchAttributes: BATON_SEARCH_ATTRIBUTES,
      extraArgs: ['--log-level', 'error'],
    },
  });
  const address = env.address;
  project.provide('temporalAddress', address);
  project.provide('temporalUiUrl', `http://127.0.0.1:${uiPort}`);
  project.provide('temporalBinary', binary);
  const chromium = await browser;
  project.provide('chromiumPath', chromium.path);
  project.provide('chromiumProblem', chromium.problem);
}

export async function teardown(): Promise<void> {
  await env?.teardown();
}
