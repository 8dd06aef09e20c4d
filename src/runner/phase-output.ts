/**
 * Turning what a phase reported into its context: checked, scanned for credentials,
 * large values moved to the context store, artifacts hashed.
 */
import type { PhaseContext, PhaseOutputFile } from '../core/handoff/schema.js';
import { describeFindings, findSecrets } from '../core/handoff/secrets.js';
import { artifactRefs } from './artifacts.js';
import { offloadContext } from './context-store.js';
import { PhaseExecutionError } from './phase-error.js';

export async function collectOutput(workdir: string, output: PhaseOutputFile, label: string, safeKeys: readonly string[]): Promise<PhaseContext> {
  const findings = findSecrets(output.context, { root: 'context', safeKeys });
  if (findings.length > 0) {
    // Refused here, before it reaches history or any dependant's package.
    throw new PhaseExecutionError('SecretInOutput', `${label} output credentials: ${describeFindings(findings).join('; ')}`);
  }
  try {
    return { context: await offloadContext(workdir, output.context), artifacts: await artifactRefs(workdir, output.artifacts) };
  } catch (err) {
    throw new PhaseExecutionError('InvalidArtifact', `${label} reported a bad artifact: ${(err as Error).message}`);
  }
}
