/**
 * Starts one real Temporal dev server for the integration tests, on free loopback ports,
 * from the binary `temporal-dev.sh` installs (from a package registry, never a download
 * here), and stops it afterwards.
 */
import { execFileSync } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { BATON_SEARCH_ATTRIBUTES } from '../../src/core/api/search-attributes.js';
import { freePort } from './ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    temporalBinary: string;
  }
}

let env: TestWorkflowEnvironment | undefined;

export async function setup(project: TestProject): Promise<void> {
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
}

export async function teardown(): Promise<void> {
  await env?.teardown();
}
