// The phase side of Baton's command contract, shared by every phase script: read the handoff
// package, find what earlier phases produced in it, write artifacts, report the result.
//
// Everything a phase reads comes from its package: `dependency_contexts` (keyed by phase id: each
// phase's `context` and `artifacts`; every ancestor's, not only the direct dependencies', for a
// phase with `"transitive_context": true` in the plan), `previous_phase_context` (the dependency
// that finished last), `global_context` and `phase_config`. Baton has already checked that every
// artifact listed there is inside the workdir and unchanged since it was recorded, and has put back
// any context value that travelled by reference, so the values here are the full ones.

import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class PhaseError extends Error {}

/** Stops the phase with a message meant for the user (no stack trace). */
export function fail(message) {
  throw new PhaseError(message);
}

/**
 * Runs one phase: `body(phase)` returns the phase's context, which is written to BATON_OUTPUT with
 * the artifacts the body wrote. `needs` lists the phases whose output the body reads; one missing
 * from the package fails the phase before any work.
 */
export async function runPhase({ needs = [] }, body) {
  let label = `phase ${process.env.BATON_PHASE ?? '?'}`;
  try {
    const phase = new Phase();
    label = `phase ${phase.id} (${phase.name})`;
    for (const id of needs) phase.output(id);
    const context = await body(phase);
    phase.finish(context ?? {});
  } catch (err) {
    const detail = err instanceof PhaseError ? err.message : (err?.stack ?? String(err));
    process.stderr.write(`${label}: ${detail}\n`);
    process.exitCode = 1;
  }
}

class Phase {
  constructor() {
    const handoffPath = requireEnv('BATON_HANDOFF');
    this.outputPath = path.resolve(requireEnv('BATON_OUTPUT'));
    this.workdir = path.resolve(requireEnv('BATON_WORKDIR'));
    this.pkg = readJsonFile(handoffPath, 'handoff package');
    if (this.pkg === null || typeof this.pkg !== 'object' || this.pkg.to_phase === undefined) {
      fail(`${handoffPath} is not a handoff package`);
    }
    this.id = this.pkg.to_phase;
    this.name = this.pkg.phase_name;
    this.config = this.pkg.phase_config ?? {};
    this.artifactDir = `artifacts/phase_${String(this.id).replace(/[^\w.-]/g, '_')}`;
    this.produced = {};
  }

  /** `phase_config[key]`, or `fallback` when unset; the type must match the fallback's. */
  setting(key, fallback, { min } = {}) {
    const value = this.config[key];
    if (value === undefined || value === null) return fallback;
    const kindOf = (v) => (Array.isArray(v) ? 'array' : typeof v);
    if (kindOf(value) !== kindOf(fallback)) {
      fail(`phase_config.${key} must be of type ${kindOf(fallback)}, not ${JSON.stringify(value)}; fix it in the plan`);
    }
    if (min !== undefined && !(value >= min)) fail(`phase_config.${key} must be at least ${min}, not ${value}`);
    return value;
  }

  /** Absolute path of `global_context.repo`, which the plan gives relative to the plan's directory. */
  get repo() {
    const given = this.pkg.global_context?.repo;
    if (typeof given !== 'string' || given === '') {
      fail('global_context.repo is not set: give the plan a "global_context": { "repo": "<path>" }');
    }
    const abs = path.resolve(given);
    if (!isDirectory(abs)) fail(`global_context.repo is ${abs} (from ${process.cwd()}), which is not a directory`);
    return abs;
  }

  /** The `{ context, artifacts }` of the dependency that finished last (`from_phase`). */
  get previous() {
    const previous = this.pkg.previous_phase_context;
    if (!previous) fail(`has no previous_phase_context: phase ${this.id} depends on no phase`);
    return previous;
  }

  /** The `{ context, artifacts }` of an earlier phase, from `dependency_contexts`. */
  output(id) {
    const found = this.pkg.dependency_contexts?.[String(id)];
    if (!found) {
      const held = Object.keys(this.pkg.dependency_contexts ?? {});
      fail(`needs the output of phase ${id}, but dependency_contexts holds ${held.length ? `phases ${held.join(', ')}` : 'no phase'}; ` +
        `in the plan, make phase ${this.id} depend on phase ${id}, or give it "transitive_context": true if it is an ancestor`);
    }
    return found;
  }

  /** Absolute path of the artifact `name` of phase `id`. */
  artifact(id, name) {
    const ref = this.output(id).artifacts?.[name];
    if (!ref) fail(`needs artifact "${name}" of phase ${id}, which phase ${id} did not record`);
    return path.resolve(this.workdir, ref.path);
  }

  readText(id, name) {
    return readFileSync(this.artifact(id, name), 'utf8');
  }

  readJson(id, name) {
    return readJsonFile(this.artifact(id, name), `artifact "${name}" of phase ${id}`);
  }

  /** Writes an artifact of this phase under the workdir and records it for the output. */
  writeArtifact(name, fileName, content) {
    const rel = `${this.artifactDir}/${fileName}`;
    const abs = path.join(this.workdir, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    this.produced[name] = rel;
    return abs;
  }

  writeJsonArtifact(name, fileName, value) {
    return this.writeArtifact(name, fileName, `${JSON.stringify(value, null, 2)}\n`);
  }

  /** BATON_OUTPUT, written whole or not at all; Baton hashes the artifacts it names. */
  finish(context) {
    mkdirSync(path.dirname(this.outputPath), { recursive: true });
    const tmp = `${this.outputPath}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ context, artifacts: this.produced }, null, 2)}\n`);
    renameSync(tmp, this.outputPath);
  }
}

function requireEnv(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is not set: run this script through Baton (baton run, or baton execute-phase <handoff>)`);
  return value;
}

function readJsonFile(file, what) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail(`cannot read ${what} ${file}: ${err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    return fail(`${what} ${file} is not valid JSON: ${err.message}`);
  }
}

function isDirectory(abs) {
  try {
    return statSync(abs).isDirectory();
  } catch {
    return false;
  }
}
