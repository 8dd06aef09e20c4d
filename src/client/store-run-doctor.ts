/**
 * `baton doctor <run>` when BATON_STORE names a store: the run's files are in the store, and the
 * workdir on this machine is only a cache of it. What is checked there: the store answers; the
 * run's execution_context.json; and for each phase that finished, its output file and every object
 * its output references (present, of the recorded size, and, up to VERIFY_LIMIT bytes each, with
 * the recorded hash).
 */
import path from 'node:path';
import type { RunStatus } from '../core/api/status.js';
import { isStoreError, type Store } from '../runner/store/index.js';
import { contextFiles, executionContextKey, runKey } from '../runner/store/sync.js';
import type { Finding } from './diagnose.js';
import { failedStep } from './store-doctor.js';

/** Objects up to this size are read back and hashed; larger ones are checked by size only. */
export const VERIFY_LIMIT = 16 * 1024 * 1024;

export async function storeRunFindings(status: RunStatus, store: Store): Promise<Finding[]> {
  const where = store.description;
  const findings: Finding[] = [
    { ok: true, message: `the run's files are in the store ${where}; the workdir ${path.resolve(status.workdir)} on each machine is only a cache of it (a missing or stale file there is fetched again by hash)` },
  ];
  try {
    const exported = await store.head(executionContextKey(status.execution_id));
    findings.push(
      exported
        ? { ok: true, message: `${executionContextKey(status.execution_id)} is in the store` }
        : { ok: false, message: `${executionContextKey(status.execution_id)} is not in the store`, fix: 'the orchestrator worker stores it after every phase: give it the same BATON_STORE and credentials as the other workers' },
    );
  } catch (err) {
    findings.push(failedStep(`store ${where}: cannot be read`, err));
    return findings;
  }
  for (const [key, phase] of Object.entries(status.phases)) {
    if (phase.state !== 'completed' || !phase.context) continue;
    const label = `phase ${key} (${phase.name})`;
    const problems: Finding[] = [];
    const outputKey = runKey(status.execution_id, 'outputs', `phase_${key}.json`);
    // A phase an agent or an operator completed has no committed output file: only workers write one.
    if (phase.executed_by && !(await store.head(outputKey))) {
      problems.push({ ok: false, phase: key, message: `${label}'s output ${outputKey} is not in the store`, fix: `its worker stores it before reporting; if the bucket was cleaned, re-run it: baton retry ${status.execution_id} ${key}` });
    }
    for (const ref of contextFiles(phase.context)) {
      const problem = await objectProblem(store, ref);
      if (problem) problems.push({ ok: false, phase: key, message: `${label}: ${ref.path} (sha256 ${ref.sha256.slice(0, 12)}…) ${problem}`, fix: `dependants cannot run without it: re-run the phase (baton retry ${status.execution_id} ${key})` });
    }
    findings.push(...(problems.length > 0 ? problems : [{ ok: true, phase: key, message: `${label}'s output and its ${contextFiles(phase.context).length} file(s) are in the store as recorded` }]));
  }
  return findings;
}

async function objectProblem(store: Store, ref: { sha256: string; size: number }): Promise<string | undefined> {
  try {
    const stored = await store.hasContent(ref.sha256);
    if (!stored) return 'is missing from the store';
    if (stored.size !== ref.size) return `is ${stored.size} bytes in the store, not ${ref.size} as recorded`;
    if (ref.size <= VERIFY_LIMIT) await store.getContent(ref.sha256); // checked against its hash as it is read
    return undefined;
  } catch (err) {
    if (isStoreError(err, 'wrong-hash')) return 'is in the store with other bytes than recorded (wrong hash): it was altered there';
    return `could not be checked: ${(err as Error).message}`;
  }
}
