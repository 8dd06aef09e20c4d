/**
 * The orchestrator's activities: exporting the guide's `execution_context.json`, and the
 * orchestrator's side of handing phases to external agents.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { statusQuery } from '../core/api/definitions.js';
import type { RunStatus } from '../core/api/status.js';
import { archivedOutputs, archivePhases, withArchivedDetails } from './archive.js';
import { writeFileAtomic } from '../runner/handoff-files.js';
import { checkOutputSchemas, handOffToAgent, verifyAgentResult } from './agent-handoff.js';
import { checkOperatorOutput } from './operator-output.js';
import { watchPhases } from './phase-watch.js';
import { watchQueues } from './queue-watch.js';
import { refreshArtifacts } from './refresh-artifacts.js';
import { resetOrigin } from './reset-origin.js';
import { verifyResume } from './resume-check.js';
import { registeredSearchAttributes } from './search-attributes.js';
import type { OrchestratorActivities } from './types.js';
import { markWorkdir, resolveWorkdir } from '../runner/workdir.js';
import { configuredStore, executionContextKey } from '../runner/store/sync.js';

export const EXECUTION_CONTEXT_FILE = 'execution_context.json';

async function writeExecutionContext(status: RunStatus, workdir: string, baseDir: string | null, store?: string): Promise<void> {
  const dir = resolveWorkdir(workdir, baseDir);
  await mkdir(dir, { recursive: true });
  // The final file is complete: phases archived by a continue-as-new get their details back.
  const full = status.finished_at ? await withArchivedDetails(status, workdir, baseDir, store) : status;
  const text = `${JSON.stringify(full, null, 2)}\n`;
  await writeFileAtomic(path.join(dir, EXECUTION_CONTEXT_FILE), text);
  // With a store, each run's is kept there too, for every machine (baton gc, another orchestrator).
  await configuredStore(store)?.put(executionContextKey(status.execution_id), text);
}

export function createOrchestratorActivities(): OrchestratorActivities {
  return {
    writeExecutionContext,
    async exportExecutionContext(workflowId: string, workdir: string, baseDir: string | null, store?: string): Promise<void> {
      const status = await Context.current().client.workflow.getHandle(workflowId).query(statusQuery);
      await writeExecutionContext(status, workdir, baseDir, store);
    },
    async openWorkdir(workdir: string, baseDir: string | null, executionId: string): Promise<void> {
      await markWorkdir(resolveWorkdir(workdir, baseDir), executionId);
    },
    archivePhases,
    archivedOutputs,
    handOffToAgent,
    checkOutputSchemas,
    verifyAgentResult,
    checkOperatorOutput,
    registeredSearchAttributes,
    resetOrigin,
    verifyResume,
    refreshArtifacts,
    watchQueues,
    watchPhases,
  };
}
