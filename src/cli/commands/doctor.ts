/**
 * `baton doctor <run> [--phase <id>]`: the guide's troubleshooting, checked against a live run.
 * `baton doctor --store`: checks the object store BATON_STORE names (issue 16; runs do not use it yet).
 */
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { diagnose, renderFindings, type Finding } from '../../client/diagnose.js';
import { Orchestrator } from '../../client/orchestrator.js';
import { checkStoreFromEnvironment } from '../../client/store-doctor.js';
import { verifyKeysFromEnv } from '../../runner/signing.js';
import { action, UsageError } from '../errors.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('explain why a handoff was not created, why context is incomplete, or why an agent cannot execute; --store checks the object store BATON_STORE names')
    .argument('[run-id]')
    .option('--phase <id>', 'only this phase')
    .option('--store', 'check the store BATON_STORE names: reachable, credentials, bucket, a round trip')
    .option('--json', 'print the findings as JSON')
    .action(
      action(async (runId: string | undefined, opts: { phase?: string; store?: boolean; json?: boolean }) => {
        if (!runId && !opts.store) throw new UsageError('doctor needs a run id (baton doctor <run-id>), or --store to check the object store');
        if (!runId && opts.phase) throw new UsageError('--phase needs a run id: baton doctor <run-id> --phase <id>');
        const findings: Finding[] = [];
        if (opts.store) findings.push(...(await checkStoreFromEnvironment()));
        if (runId) {
          const status = await new Orchestrator(await connectClient()).run(runId).status();
          findings.push(...(await diagnose(status, { keys: verifyKeysFromEnv(), ...(opts.phase ? { phase: opts.phase } : {}) })));
        }
        console.log(opts.json ? JSON.stringify(findings, null, 2) : renderFindings(findings));
        if (findings.some((f) => !f.ok)) process.exitCode = 1;
      }),
    );
}
