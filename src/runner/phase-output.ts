/**
 * Turning what a phase reported into its context: checked (counts, names, credentials, the size it
 * will have in history), artifacts hashed, large values moved to the context store. Nothing is
 * written until everything has been checked, so a phase refused here leaves no files behind.
 */
import type { FailureType } from '../core/api/failures.js';
import type { PhaseContext, PhaseOutputFile } from '../core/handoff/schema.js';
import { describeFindings, findSecrets } from '../core/handoff/secrets.js';
import { artifactRefs } from './artifacts.js';
import { planContext, storeValues } from './context-store.js';
import { checkOutputShape, checkReportSize } from './output-limits.js';
import { PhaseExecutionError } from './phase-error.js';

/**
 * `refusal` is the failure an output over a limit gets: InvalidPhaseOutput for a command's,
 * InvalidHandlerOutput for a handler's.
 */
export async function collectOutput(
  workdir: string,
  output: PhaseOutputFile,
  label: string,
  safeKeys: readonly string[],
  refusal: FailureType = 'InvalidPhaseOutput',
): Promise<PhaseContext> {
  checkOutputShape(output, label, refusal);
  const findings = findSecrets(output.context, { root: 'context', safeKeys });
  if (findings.length > 0) {
    // Refused here, before it reaches history or any dependant's package.
    throw new PhaseExecutionError('SecretInOutput', `${label} output credentials: ${describeFindings(findings).join('; ')}`);
  }
  let artifacts: PhaseContext['artifacts'];
  try {
    artifacts = await artifactRefs(workdir, output.artifacts);
  } catch (err) {
    throw new PhaseExecutionError('InvalidArtifact', `${label} reported a bad artifact: ${(err as Error).message}`);
  }
  const planned = planContext(output.context);
  const report = { context: planned.context, artifacts };
  checkReportSize(report, label, refusal);
  await storeValues(workdir, planned.pending);
  return report;
}
