/**
 * `baton doctor <run> [--phase <id>]`: the guide's troubleshooting, checked against a live run.
 */
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { diagnose, renderFindings } from '../../client/diagnose.js';
import { Orchestrator } from '../../client/orchestrator.js';
import { verifyKeysFromEnv } from '../../runner/signing.js';
import { action } from '../errors.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('explain why a handoff was not created, why context is incomplete, or why an agent cannot execute')
    .argument('<run-id>')
    .option('--phase <id>', 'only this phase')
    .option('--json', 'print the findings as JSON')
    .action(
      action(async (runId: string, opts: { phase?: string; json?: boolean }) => {
        const status = await new Orchestrator(await connectClient()).run(runId).status();
        const findings = await diagnose(status, { keys: verifyKeysFromEnv(), ...(opts.phase ? { phase: opts.phase } : {}) });
        console.log(opts.json ? JSON.stringify(findings, null, 2) : renderFindings(findings));
        if (findings.some((f) => !f.ok)) process.exitCode = 1;
      }),
    );
}
