/**
 * Where the orchestrator worker gets its workflow code: the bundle `npm run build` writes
 * (fast start, which matters when tests start many workers), else the sources, bundled now.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkerOptions } from '@temporalio/worker';

export const WORKFLOW_BUNDLE_PATH = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

export function workflowCode(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (existsSync(WORKFLOW_BUNDLE_PATH)) return { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } };
  return { workflowsPath: fileURLToPath(new URL('../core/workflows/index.js', import.meta.url)) };
}
