/**
 * Sealing and saving a package before its phase runs. The guide: "if the handoff fails,
 * be able to run normally": with `on_handoff_failure: inline` a package that cannot be
 * sealed or saved still runs, from memory, and the result records why.
 */
import type { HandoffPackage } from '../core/handoff/schema.js';
import { describeFindings, findSecrets } from '../core/handoff/secrets.js';
import { sealPackage, signingKeyFromEnv } from './signing.js';
import { writeHandoffFiles } from './handoff-files.js';
import { PhaseExecutionError } from './phase-error.js';

export interface PreparedHandoff {
  pkg: HandoffPackage;
  /** The saved package file, when files are on and saving worked. */
  savedPath: string | null;
  fallback: string | null;
}

/** Refuses a package carrying credentials, seals (and signs, with a key) it, and saves it when asked. */
/** `stem` names the attempt's copy under `attempts/` (see attemptStem). */
export async function sealAndSave(pkg: HandoffPackage, handoffsDir: string, save: boolean, stem?: string): Promise<{ pkg: HandoffPackage; savedPath: string | null }> {
  const findings = findSecrets(pkg, { safeKeys: pkg.safe_keys });
  if (findings.length > 0) throw new Error(`it carries credentials: ${describeFindings(findings).join('; ')}`);
  const sealed = sealPackage(pkg, signingKeyFromEnv());
  return { pkg: sealed, savedPath: save ? await writeHandoffFiles(handoffsDir, sealed, stem) : null };
}

export async function prepareHandoff(pkg: HandoffPackage, handoffsDir: string, save: boolean, label: string, stem?: string): Promise<PreparedHandoff> {
  try {
    return { ...(await sealAndSave(pkg, handoffsDir, save, stem)), fallback: null };
  } catch (err) {
    const reason = `the package of ${label} could not be ${save ? 'sealed and saved' : 'sealed'}: ${(err as Error).message}`;
    if (pkg.execution_instructions.on_handoff_failure === 'fail') throw new PhaseExecutionError('HandoffFailed', reason);
    return { pkg, savedPath: null, fallback: `${reason}; ran inline from memory instead (on_handoff_failure: inline)` };
  }
}
