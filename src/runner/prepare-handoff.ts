/**
 * Sealing and saving a package before its phase runs. The guide: "if the handoff fails,
 * be able to run normally": with `on_handoff_failure: inline` a package that cannot be
 * sealed or saved still runs, from memory, and the result records why. Not one that carries
 * credentials: that one never runs, whatever on_handoff_failure says.
 */
import type { HandoffPackage } from '../core/handoff/schema.js';
import { describeFindings, findSecrets } from '../core/handoff/secrets.js';
import { sealPackage, signingKeyFromEnv } from './signing.js';
import { writeHandoffFileSet } from './handoff-files.js';
import { PhaseExecutionError } from './phase-error.js';

export interface PreparedHandoff {
  pkg: HandoffPackage;
  /** The saved package file, when files are on and saving worked. */
  savedPath: string | null;
  /** Every file saving it wrote (the attempt's copy, the latest package, the execute script): what a store keeps. */
  savedFiles: string[];
  fallback: string | null;
}

/** What no fallback may work around: a package that carries credentials, or one its run requires signed that cannot be. */
export class PackageRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackageRefused';
  }
}

/**
 * Refuses a package carrying credentials, seals (and signs, with a key) it, and saves it when asked.
 * A package saved for others (`save`) of a run that requires signed packages is refused without a key.
 * `stem` names the attempt's copy under `attempts/` (see attemptStem).
 */
export async function sealAndSave(pkg: HandoffPackage, handoffsDir: string, save: boolean, stem?: string): Promise<Omit<PreparedHandoff, 'fallback'>> {
  const findings = findSecrets(pkg, { safeKeys: pkg.safe_keys });
  if (findings.length > 0) throw new PackageRefused(`it carries credentials: ${describeFindings(findings).join('; ')}`);
  const key = signingKeyFromEnv();
  if (!key && save && pkg.execution_instructions.require_signed === true) {
    throw new PackageRefused(`the run requires signed packages (require_signed_packages) and this worker has no signing key; ${SET_A_KEY}`);
  }
  const sealed = sealPackage(pkg, key);
  if (!save) return { pkg: sealed, savedPath: null, savedFiles: [] };
  const saved = await writeHandoffFileSet(handoffsDir, sealed, stem);
  return { pkg: sealed, savedPath: saved.file, savedFiles: saved.files };
}

export const SET_A_KEY = 'set BATON_HANDOFF_KEY (or BATON_HANDOFF_KEY_FILE, or BATON_HANDOFF_PRIVATE_KEY_FILE) on it, as on the other workers';

export async function prepareHandoff(pkg: HandoffPackage, handoffsDir: string, save: boolean, label: string, stem?: string): Promise<PreparedHandoff> {
  try {
    return { ...(await sealAndSave(pkg, handoffsDir, save, stem)), fallback: null };
  } catch (err) {
    const reason = `the package of ${label} could not be ${save ? 'sealed and saved' : 'sealed'}: ${(err as Error).message}`;
    if (err instanceof PackageRefused) throw new PhaseExecutionError('HandoffFailed', `${reason}; it is never run, whatever on_handoff_failure says`);
    if (pkg.execution_instructions.on_handoff_failure === 'fail') throw new PhaseExecutionError('HandoffFailed', reason);
    return { pkg, savedPath: null, savedFiles: [], fallback: `${reason}; ran inline from memory instead (on_handoff_failure: inline)` };
  }
}
