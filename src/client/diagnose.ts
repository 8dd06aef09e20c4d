/**
 * The guide's troubleshooting section as a check list: why a handoff was not created, why
 * context is incomplete, why an agent cannot execute a package. `baton doctor` prints it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EXECUTION_CONTEXT_FILE } from '../activities/execution-context.js';
import { executeScriptName, executeScriptProblem, handoffFileName } from '../runner/handoff-files.js';
import type { VerifyKey } from '../runner/signing.js';
import { validatePackage } from '../runner/validate-package.js';
import { handoffsDirOf } from '../runner/workdir.js';
import { configuredStore } from '../runner/store/sync.js';
import { storeRunFindings } from './store-run-doctor.js';
import type { PhaseStatus, RunStatus } from '../core/api/status.js';
import { readStatusFile } from './read-status.js';

export interface Finding {
  ok: boolean;
  /** The phase the finding is about, if any. */
  phase?: string;
  message: string;
  fix?: string;
}

export interface DiagnoseOptions {
  phase?: string;
  keys: readonly VerifyKey[];
}

export async function diagnose(status: RunStatus, opts: DiagnoseOptions): Promise<Finding[]> {
  const store = configuredStore(status.store);
  // With a store, the run's files are checked there, and the workdir here is only a cache.
  if (store) return [...(await storeRunFindings(status, store)), ...(await phasesFindings(status, opts, undefined))];
  const findings: Finding[] = [];
  const workdir = path.resolve(status.workdir);
  const workdirHere = existsSync(workdir);
  findings.push(
    workdirHere
      ? { ok: true, message: `workdir ${workdir} is on this machine` }
      : { ok: false, message: `workdir ${workdir} is not on this machine`, fix: 'run doctor where the run\'s workdir is (or mount it at the same path)' },
  );
  if (workdirHere) findings.push(await executionContextFinding(status, workdir));
  if (!status.handoffs_enabled) {
    findings.push({
      ok: false,
      message: 'no handoff files are written: agent_handoff_enabled is false in the run\'s config (packages travel in memory only)',
      fix: 'set "agent_handoff_enabled": true in orchestrator_config.json for the next run',
    });
  }
  findings.push(...(await phasesFindings(status, opts, workdirHere ? workdir : undefined)));
  return findings;
}

/** Each phase asked about (all, or opts.phase): its state, and its package in `workdir` when that is here. */
async function phasesFindings(status: RunStatus, opts: DiagnoseOptions, workdir: string | undefined): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const key of opts.phase ? [opts.phase] : Object.keys(status.phases)) {
    const phase = status.phases[key];
    if (!phase) {
      findings.push({ ok: false, message: `the run has no phase ${key}`, fix: `phases are ${Object.keys(status.phases).join(', ')}` });
      continue;
    }
    findings.push(...(await phaseFindings(status, key, phase, workdir, opts.keys)));
  }
  return findings;
}

async function executionContextFinding(status: RunStatus, workdir: string): Promise<Finding> {
  const file = path.join(workdir, EXECUTION_CONTEXT_FILE);
  if (!existsSync(file)) {
    return { ok: false, message: `${file} does not exist`, fix: 'the orchestrator worker writes it after every phase: give that worker access to the workdir' };
  }
  const exported = await readStatusFile(file);
  const behind = Object.entries(status.phases).filter(([k, p]) => exported.phases?.[k]?.state !== p.state).map(([k]) => k);
  if (exported.execution_id !== status.execution_id) {
    return { ok: false, message: `${file} belongs to run ${exported.execution_id}, not ${status.execution_id}`, fix: 'give each run its own workdir' };
  }
  if (behind.length > 0) {
    return { ok: false, message: `${file} is behind the run for phases ${behind.join(', ')}`, fix: 'it is rewritten after each phase; if it stays behind, check the orchestrator worker\'s log' };
  }
  return { ok: true, message: `${EXECUTION_CONTEXT_FILE} agrees with the run's status` };
}

async function phaseFindings(status: RunStatus, key: string, phase: PhaseStatus, workdir: string | undefined, keys: readonly VerifyKey[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  const label = `phase ${key} (${phase.name})`;
  if (phase.state === 'pending' || phase.state === 'ready') {
    const waiting = phase.depends_on.map(String).filter((d) => !['completed', 'skipped'].includes(status.phases[d]?.state ?? ''));
    if (waiting.length > 0) {
      const failed = waiting.filter((d) => status.phases[d]?.state === 'failed');
      findings.push({
        ok: false,
        phase: key,
        message: `${label} has no handoff yet: it waits for ${waiting.map((d) => `phase ${d} (${status.phases[d]?.state ?? 'unknown'})`).join(', ')}`,
        ...(failed.length > 0 ? { fix: `retry or skip the failed phase: baton retry ${status.execution_id} ${failed[0]}` } : {}),
      });
    } else if (status.paused) {
      findings.push({ ok: false, phase: key, message: `${label} is ready but the run is paused`, fix: `baton resume ${status.execution_id}` });
    } else {
      findings.push({ ok: true, phase: key, message: `${label} is ready and will start when a slot is free (max_parallel_phases)` });
    }
    return findings;
  }
  for (const dep of phase.depends_on.map(String)) {
    if (status.phases[dep]?.state === 'skipped') {
      findings.push({ ok: false, phase: key, message: `${label}'s context lacks phase ${dep}'s output: phase ${dep} was skipped`, fix: `baton retry ${status.execution_id} ${dep} --downstream to produce it` });
    }
  }
  if (phase.state === 'failed') {
    findings.push({ ok: false, phase: key, message: `${label} failed after ${phase.attempts} attempt(s): ${phase.error ?? 'unknown error'}`, fix: `baton retry ${status.execution_id} ${key}` });
  }
  if (phase.handoff_fallback) findings.push({ ok: false, phase: key, message: `${label} ran inline without a saved package: ${phase.handoff_fallback}` });
  if (!status.handoffs_enabled || !workdir) return findings;

  const file = path.join(handoffsDirOf(workdir, status.execution_id), handoffFileName(key));
  if (!existsSync(file)) {
    findings.push({ ok: false, phase: key, message: `${label}'s package ${file} does not exist`, fix: 'the phase worker writes it: check that it can write to the workdir' });
    return findings;
  }
  const json = JSON.parse(await readFile(file, 'utf8')) as { execution_id?: unknown };
  if (json.execution_id !== status.execution_id) {
    // <workdir>/handoffs, from before runs had directories of their own, is shared by a plan's runs.
    findings.push({ ok: false, phase: key, message: `${label} has no package of this run: ${file} is run ${String(json.execution_id)}'s`, fix: 'the phase worker writes it when the phase starts' });
    return findings;
  }
  const script = await executeScriptProblem(path.dirname(file), key);
  if (script) findings.push({ ok: false, phase: key, message: `${label}'s ${script}` });
  else if (existsSync(path.join(path.dirname(file), executeScriptName(key)))) findings.push({ ok: true, phase: key, message: `${label}'s ${executeScriptName(key)} is the script Baton writes` });
  const checked = await validatePackage(json, { keys, allowUnsigned: keys.length === 0 });
  if (checked.problems.length === 0) {
    findings.push({ ok: true, phase: key, message: `${label}'s package is valid: dependencies, files, hashes${keys.length > 0 ? ', signature' : ''}` });
  } else {
    for (const p of checked.problems) {
      findings.push({ ok: false, phase: key, message: `${label}'s package: ${p.path}: ${p.message}` });
    }
  }
  if (keys.length === 0 && !checked.pkg?.signature) {
    findings.push({ ok: false, phase: key, message: `${label}'s package is not signed, so an agent must run it with --allow-unsigned`, fix: 'set BATON_HANDOFF_KEY (or BATON_HANDOFF_KEY_FILE) on the workers' });
  }
  return findings;
}

export function renderFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `${f.ok ? '✓' : '✗'} ${f.message}${f.fix ? `\n    → ${f.fix}` : ''}`).join('\n');
}
