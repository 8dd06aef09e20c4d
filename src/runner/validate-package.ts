/**
 * Checking a package before anyone runs it: the guide's "validate the handoff" —
 * every dependency present and completed, every referenced file present with its hash,
 * the signature, no credentials. Every problem is reported with its path in the package.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatPath } from '../core/plan/problems.js';
import { confinedPath } from './paths.js';
import { isContextRef, HandoffPackageSchema, type HandoffPackage, type PhaseContext } from '../core/handoff/schema.js';
import { findSecrets, describeFindings } from '../core/handoff/secrets.js';
import { verifyPackage, type VerifyKey } from './signing.js';
import { verifiedFile } from './store/sync.js';

export interface PackageProblem {
  /** Where in the package, e.g. `dependency_contexts["3"].artifacts.inventory`. */
  path: string;
  message: string;
  /** For a referenced file: not on this machine (it may be on another), or there but not as recorded. */
  file?: 'missing' | 'changed';
}

export interface ValidateOptions {
  keys: readonly VerifyKey[];
  allowUnsigned?: boolean;
  /** The run's workdir on this machine, when it differs from the package's. */
  workdir?: string;
}

export interface ValidationResult {
  pkg?: HandoffPackage;
  problems: PackageProblem[];
}

export function formatProblems(problems: readonly PackageProblem[]): string {
  return problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
}

export async function validatePackage(json: unknown, opts: ValidateOptions): Promise<ValidationResult> {
  const parsed = HandoffPackageSchema.safeParse(json);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
  }
  const pkg = parsed.data;
  const problems: PackageProblem[] = [];

  const mustBeSigned = pkg.execution_instructions.require_signed === true;
  const verified = verifyPackage(pkg, opts.keys, { allowUnsigned: opts.allowUnsigned === true || mustBeSigned });
  if (!verified.ok) problems.push({ path: pkg.signature ? 'signature' : 'content_hash', message: verified.problem });
  else if (mustBeSigned && !pkg.signature) {
    problems.push({
      path: 'signature',
      message: 'the package has no signature, and its run requires signed packages (require_signed_packages): it is never run unsigned, --allow-unsigned or not; run the package a worker signed',
    });
  }

  problems.push(...dependencyProblems(pkg));

  const workdir = opts.workdir ?? path.resolve(pkg.execution_instructions.base_dir ?? process.cwd(), pkg.execution_instructions.workdir);
  if (!existsSync(workdir)) {
    problems.push({ path: 'execution_instructions.workdir', message: `the workdir ${workdir} does not exist on this machine; copy the run's workdir here, or pass --workdir` });
  } else {
    problems.push(...(await dependencyFileProblems(pkg, workdir)));
  }

  for (const line of describeFindings(findSecrets(pkg, { safeKeys: pkg.safe_keys }))) {
    const [where, ...rest] = line.split(': ');
    problems.push({ path: where ?? '(package)', message: rest.join(': ') });
  }
  return { pkg, problems };
}

/** Every file the package references (artifacts, stored context values): present, inside the workdir, unchanged. */
export async function dependencyFileProblems(pkg: HandoffPackage, workdir: string, verified?: ReadonlySet<string>): Promise<PackageProblem[]> {
  const problems: PackageProblem[] = [];
  for (const [key, context] of Object.entries(pkg.dependency_contexts)) {
    problems.push(...(await contextFileProblems(workdir, context, ['dependency_contexts', key], verified)));
  }
  return problems;
}

function dependencyProblems(pkg: HandoffPackage): PackageProblem[] {
  const problems: PackageProblem[] = [];
  const me = `phase ${String(pkg.to_phase)}`;
  for (const dep of pkg.depends_on) {
    const key = String(dep);
    const state = pkg.state_summary[key]?.state;
    if (state === 'skipped') continue; // a skipped dependency has no output, by design
    if (state !== 'completed') {
      problems.push({
        path: formatPath(['state_summary', key, 'state']),
        message: `${me} depends on phase ${key}, which is ${state ?? 'not in the run'}; run phase ${key} first`,
      });
    }
    if (!pkg.dependency_contexts[key]) {
      problems.push({ path: formatPath(['dependency_contexts', key]), message: `missing: ${me} depends on phase ${key}, but its output is not in the package` });
    }
  }
  return problems;
}

/**
 * The files one phase context references: present, inside the workdir, unchanged. `where` is the
 * context's path, e.g. `['output']`. `verified`: files a pull from the store has just checked
 * (verifiedFile in store/sync.ts), which are not read again.
 */
export async function contextFileProblems(workdir: string, context: PhaseContext, where: ReadonlyArray<string | number>, verified?: ReadonlySet<string>): Promise<PackageProblem[]> {
  const problems: PackageProblem[] = [];
  const check = async (at: string, relative: string, sha256: string, size: number): Promise<void> => {
    let resolved: string;
    try {
      resolved = confinedPath(workdir, relative);
    } catch (err) {
      problems.push({ path: at, message: `${(err as Error).message}; paths in a package stay inside the workdir` });
      return;
    }
    if (verified?.has(verifiedFile({ sha256, path: relative }))) return;
    let bytes: Buffer;
    try {
      bytes = await readFile(resolved);
    } catch {
      problems.push({ path: at, message: `${relative} does not exist in the workdir ${workdir}; copy the run's workdir here, or pass --workdir`, file: 'missing' });
      return;
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256 || bytes.length !== size) {
      problems.push({ path: at, message: `${relative} has changed since it was recorded (sha256 ${actual.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…); re-run the phase that produced it`, file: 'changed' });
    }
  };
  for (const [name, ref] of Object.entries(context.artifacts)) await check(formatPath([...where, 'artifacts', name]), ref.path, ref.sha256, ref.size);
  for (const [name, value] of Object.entries(context.context)) {
    if (isContextRef(value)) await check(formatPath([...where, 'context', name]), value.$baton_ref.path, value.$baton_ref.sha256, value.$baton_ref.size);
  }
  return problems;
}
