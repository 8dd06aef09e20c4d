/**
 * Rollback: a phase's `compensate` command, run when the phase is abandoned. Same process
 * protocol as the phase itself (argv, BATON_* env, logs under the workdir), plus
 * BATON_COMPENSATING=1 so one script can serve both.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { failure } from '../core/api/failures.js';
import { withPreviousContext } from '../core/handoff/build.js';
import type { HandoffPackage } from '../core/handoff/schema.js';
import { whileHeartbeating } from './keep-alive.js';
import { attemptStem, claimAttemptLogs } from '../runner/attempt-files.js';
import { GuardianLostError, runCommand } from '../runner/run-command.js';
import { ensureRunPaths, resolveWorkdir } from '../runner/workdir.js';

export async function compensatePhase(transported: HandoffPackage, argv: string[]): Promise<void> {
  const handoff = withPreviousContext(transported);
  const ctx = Context.current();
  const key = String(handoff.to_phase);
  const paths = await ensureRunPaths(resolveWorkdir(handoff.execution_instructions.workdir, handoff.execution_instructions.base_dir), handoff.execution_id);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'baton-compensate-'));
  try {
    const logs = await claimAttemptLogs(paths, attemptStem(handoff, ctx.info.attempt, { compensate: true, dispatchedIn: ctx.info.workflowExecution?.runId }));
    const handoffPath = path.join(scratch, `phase_${key}.json`);
    await writeFile(handoffPath, JSON.stringify(handoff), { mode: 0o600 });
    const outcome = await whileHeartbeating(() => runCommand({
      argv,
      cwd: handoff.execution_instructions.base_dir ?? paths.workdir,
      env: {
        ...process.env,
        BATON_HANDOFF: handoffPath,
        BATON_WORKDIR: paths.workdir,
        BATON_PHASE: key,
        BATON_RUN_ID: handoff.execution_id,
        BATON_ATTEMPT: String(ctx.info.attempt),
        BATON_COMPENSATING: '1',
      },
      stdoutPath: logs.stdoutPath,
      stderrPath: logs.stderrPath,
      signal: ctx.cancellationSignal,
    }), { phase: key, compensating: true });
    if (outcome.exitCode !== 0) {
      const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.exitCode}`;
      throw failure('CompensationFailed', `the rollback of phase ${key} ${how}: ${outcome.stderrTail.trim()}`);
    }
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    if (err instanceof GuardianLostError) throw failure('CompensationFailed', `the rollback of phase ${key} was stopped: ${err.message}`);
    throw failure('CommandNotStarted', `the rollback of phase ${key} could not run ${JSON.stringify(argv)}: ${(err as Error).message}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
