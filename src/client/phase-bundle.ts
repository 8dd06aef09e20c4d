/**
 * `baton handoff bundle` and the receiving end of a result bundle (`baton submit result.tar.gz`):
 * the bundles of runner/bundle.ts, filled from and emptied into where a run's files are on this
 * machine: its workdir, and the store when BATON_STORE names one.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { HandoffPackageSchema, type ArtifactRef, type HandoffPackage, type PhaseContext } from '../core/handoff/schema.js';
import { zodProblems } from '../core/plan/problems.js';
import { writeBundle, BUNDLE_PACKAGE, BundleError, type BundleFile } from '../runner/bundle.js';
import { handoffFileName } from '../runner/handoff-files.js';
import { confinedPath } from '../runner/paths.js';
import { sha256OfFile, type Store } from '../runner/store/store.js';
import { configuredStore, contextFiles, pushContext, runKey, storedSharedArtifacts } from '../runner/store/sync.js';
import { handoffsDirOf } from '../runner/workdir.js';
import type { RunStatus } from '../core/api/status.js';

/** Where one run's files are on this machine: its workdir, and the store if there is one. */
export interface RunFiles {
  workdir: string;
  executionId: string;
  store: Store | undefined;
}

export function runFilesOf(status: Pick<RunStatus, 'workdir' | 'execution_id' | 'store'>): RunFiles {
  return { workdir: path.resolve(status.workdir), executionId: status.execution_id, store: configuredStore(status.store) };
}

/** The phase's latest package: the run's file on this machine, else the store's copy. */
async function latestPackage(files: RunFiles, phase: string): Promise<HandoffPackage> {
  const local = path.join(handoffsDirOf(files.workdir, files.executionId), handoffFileName(phase));
  const key = runKey(files.executionId, 'handoffs', handoffFileName(phase));
  const where = files.store ? `${local} or the store ${files.store.description}` : `${local} (and BATON_STORE names no store to look in)`;
  // This machine's file first; one of another run (an old shared handoffs/ folder) is not it.
  const candidates = [() => readFile(local, 'utf8'), ...(files.store ? [() => files.store!.get(key).then((b) => b.toString('utf8'))] : [])];
  for (const read of candidates) {
    const text = await read().catch(() => undefined);
    if (text === undefined) continue;
    const parsed = HandoffPackageSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new BundleError(`the package of phase ${phase} is not a handoff package: ${zodProblems(parsed.error).join('; ')}`);
    if (parsed.data.execution_id === files.executionId) return parsed.data;
  }
  throw new BundleError(`run ${files.executionId} has no package for phase ${phase} in ${where}; a phase has one once it is handed out (\`baton handoff list ${files.executionId}\`)`);
}

/** A referenced file's bytes: this machine's copy when it has that hash, else the store's (checked by hash as it is fetched). */
function fetcher(files: RunFiles, ref: { path: string; sha256: string }): (target: string) => Promise<void> {
  return async (target) => {
    const local = (() => {
      try {
        return confinedPath(files.workdir, ref.path);
      } catch {
        return undefined;
      }
    })();
    const here = local ? await sha256OfFile(local).catch(() => undefined) : undefined;
    if (local && here?.sha256 === ref.sha256) return copyFile(local, target);
    if (!files.store) throw new BundleError(`${ref.path} is not in the workdir ${files.workdir} as recorded, and BATON_STORE names no store to fetch it from`);
    await files.store.getContentFile(ref.sha256, target);
  };
}

/** The plan's shared artifacts, as references: from the store's record for the run, else hashed from the workdir here. */
async function sharedArtifacts(files: RunFiles, pkg: HandoffPackage): Promise<ArtifactRef[]> {
  if (Object.keys(pkg.shared_artifacts).length === 0) return [];
  if (files.store) {
    const recorded = await storedSharedArtifacts(files.store, files.executionId);
    if (recorded) return Object.values(recorded);
  }
  const refs: ArtifactRef[] = [];
  for (const relative of Object.values(pkg.shared_artifacts)) {
    const got = await sha256OfFile(confinedPath(files.workdir, relative)).catch(() => undefined);
    if (!got) throw new BundleError(`shared artifact ${relative} is not in the workdir ${files.workdir}, nor recorded in a store; bundle from the machine that has it`);
    refs.push({ path: relative, ...got });
  }
  return refs;
}

/** Writes the phase's bundle to `out`: its package, every input it references, and instructions. */
export async function bundlePhase(files: RunFiles, phase: string, out: string): Promise<{ pkg: HandoffPackage; files: number; bytes: number }> {
  const pkg = await latestPackage(files, phase);
  const contexts: PhaseContext[] = Object.values(pkg.dependency_contexts);
  if (pkg.previous_phase_context) contexts.push(pkg.previous_phase_context);
  const refs = [...contexts.flatMap((c) => contextFiles(c)), ...(await sharedArtifacts(files, pkg))];
  const bundled: BundleFile[] = refs.map((ref) => ({ ...ref, fetch: fetcher(files, ref) }));
  await writeBundle(out, { name: BUNDLE_PACKAGE, text: `${JSON.stringify(pkg, null, 2)}\n` }, bundled, { 'README.md': instructions(pkg) });
  const unique = new Map(refs.map((r) => [r.path, r.size]));
  return { pkg, files: unique.size, bytes: [...unique.values()].reduce((a, b) => a + b, 0) };
}

function instructions(pkg: HandoffPackage): string {
  const phase = String(pkg.to_phase);
  return [
    `# Phase ${phase} (${pkg.phase_name}) of run ${pkg.execution_id}`,
    '',
    'Everything this phase needs: its handoff package (`package.json`) and every file it references,',
    'under `workdir/` at the paths the package names. No Temporal, store or shared disk is needed to do the work.',
    '`baton execute-phase` takes the bundle as it is (it unpacks it beside itself); to look first, `tar xzf` it.',
    '',
    '```sh',
    `baton execute-phase phase.tar.gz --root <your copy of the code> --offline --out result.tar.gz`,
    '```',
    '',
    'or do the work by other means and write a result as docs/agent-contract.md describes, with the',
    "files its output names under workdir/. Take `result.tar.gz` to any machine that reaches the run's",
    'Temporal (and its store, if it has one) and report it:',
    '',
    '```sh',
    'baton submit result.tar.gz',
    '```',
    '',
    pkg.execution_instructions.command ? `The phase's command: \`${pkg.execution_instructions.command.join(' ')}\`, run from --root (your copy of the code).` : `The phase runs the handler "${pkg.execution_instructions.handler ?? ''}" (pass --handlers to execute-phase).`,
    '',
  ].join('\n');
}

/**
 * Makes a result bundle's files available to the run before it is reported: stored (with a store),
 * else copied into the run's workdir here; every file was checked against the result when unpacked.
 */
export async function deliverResultFiles(files: RunFiles, output: PhaseContext, unpackedWorkdir: string): Promise<void> {
  if (files.store) return pushContext(files.store, unpackedWorkdir, output, "the result's");
  for (const ref of contextFiles(output)) {
    const target = confinedPath(files.workdir, ref.path);
    const here = await sha256OfFile(target).catch(() => undefined);
    if (here?.sha256 === ref.sha256) continue;
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(confinedPath(unpackedWorkdir, ref.path), target);
  }
}
