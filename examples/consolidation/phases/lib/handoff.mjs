// The phase side of Baton's command contract, shared by every phase script: load and check the
// handoff package, find what earlier phases produced, write artifacts, report the result.
//
// A package normally carries the outputs of a phase's direct dependencies only. So that a late
// phase can still reach what an early one made (phase 12 hashes the files of phase 0's inventory),
// every phase also writes a `ledger` artifact: the ledgers of its dependencies plus its own entry.
// Lookups try the package's dependencies first, then those ledgers.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// The context travels inline in Temporal payloads; bulk data belongs in artifacts.
const MAX_CONTEXT_BYTES = 32 * 1024;

export class PhaseError extends Error {}

/** Stops the phase with a message meant for the user (no stack trace). */
export function fail(message) {
  throw new PhaseError(message);
}

/**
 * Runs one phase: `body(phase)` returns the phase's context, which is written with the artifacts
 * the body recorded. `needs` lists the dependency ids the body reads; a missing one fails early.
 */
export async function runPhase(name, { needs = [] }, body) {
  const label = `phase ${process.env.BATON_PHASE ?? '?'} (${name})`;
  try {
    const phase = new Phase(name);
    for (const id of needs) phase.dependency(id);
    const context = await body(phase);
    phase.finish(context ?? {});
  } catch (err) {
    const detail = err instanceof PhaseError ? err.message : (err?.stack ?? String(err));
    process.stderr.write(`${label}: ${detail}\n`);
    process.exitCode = 1;
  }
}

class Phase {
  constructor(name) {
    this.name = name;
    this.outputPath = path.resolve(requireEnv('BATON_OUTPUT'));
    this.workdir = path.resolve(requireEnv('BATON_WORKDIR'));
    const handoffPath = requireEnv('BATON_HANDOFF');
    this.pkg = readJsonFile(handoffPath, 'handoff package');
    checkPackage(this.pkg, handoffPath);
    this.id = this.pkg.to_phase;
    const envPhase = process.env.BATON_PHASE;
    if (envPhase !== undefined && envPhase !== String(this.id)) {
      fail(`BATON_PHASE is ${envPhase} but ${handoffPath} is the package for phase ${this.id}`);
    }
    this.config = this.pkg.phase_config ?? {};
    this.artifactDir = `artifacts/phase_${String(this.id).replace(/[^\w.-]/g, '_')}`;
    this.produced = {};
    this.checkedFiles = new Set();
    this.ledgerPhases = undefined;
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

  /** The `{ context, artifacts }` of a direct dependency. */
  dependency(id) {
    const deps = this.pkg.dependency_contexts ?? {};
    const dep = deps[String(id)];
    if (!dep || typeof dep !== 'object') {
      fail(`needs the output of phase ${id}, but dependency_contexts holds ${listKeys(deps)}; ` +
        `check depends_on for phase ${this.id} in the plan`);
    }
    return { context: dep.context ?? {}, artifacts: dep.artifacts ?? {} };
  }

  /** The context of any earlier phase: a direct dependency, or one recorded in their ledgers. */
  upstream(id) {
    const entry = this.ledger()[String(id)];
    if (!entry) {
      fail(`needs the result of phase ${id}, which is neither a dependency nor in the ledgers of ` +
        `${listKeys(this.pkg.dependency_contexts ?? {})}; check depends_on in the plan`);
    }
    return { context: entry.context ?? {}, artifacts: entry.artifacts ?? {} };
  }

  /** Absolute, integrity-checked path of the artifact `name` made by an earlier phase. */
  artifact(name) {
    for (const [id, source] of this.sources()) {
      const ref = source.artifacts?.[name];
      if (ref) return this.checkArtifact(name, id, ref);
    }
    return fail(`needs artifact "${name}", which no dependency provides, directly or in its ledger ` +
      `(dependency_contexts holds ${listKeys(this.pkg.dependency_contexts ?? {})}); check depends_on in the plan`);
  }

  readText(name) {
    return readFileSync(this.artifact(name), 'utf8');
  }

  readJson(name) {
    const file = this.artifact(name);
    return readJsonFile(file, `artifact "${name}"`);
  }

  /** Writes an artifact of this phase under the workdir and records it for the output. */
  writeArtifact(name, fileName, content) {
    const rel = `${this.artifactDir}/${fileName}`;
    const abs = path.join(this.workdir, rel);
    const data = Buffer.from(content);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, data);
    this.produced[name] = { path: rel, sha256: sha256(data), size: data.length };
    return abs;
  }

  writeJsonArtifact(name, fileName, value) {
    return this.writeArtifact(name, fileName, `${JSON.stringify(value, null, 2)}\n`);
  }

  finish(context) {
    const size = Buffer.byteLength(JSON.stringify(context));
    if (size > MAX_CONTEXT_BYTES) {
      fail(`context is ${size} bytes, over ${MAX_CONTEXT_BYTES}: move the bulk of it into an artifact`);
    }
    const entry = {
      name: this.name,
      attempt: Number(process.env.BATON_ATTEMPT ?? 1),
      run_id: process.env.BATON_RUN_ID ?? null,
      finished_at: new Date().toISOString(),
      context,
      artifacts: { ...this.produced },
    };
    const phases = { ...this.ledger(), [String(this.id)]: entry };
    this.writeJsonArtifact('ledger', 'ledger.json', { execution_id: this.pkg.execution_id ?? null, phases });
    const artifacts = Object.fromEntries(Object.entries(this.produced).map(([key, ref]) => [key, ref.path]));
    mkdirSync(path.dirname(this.outputPath), { recursive: true });
    const tmp = `${this.outputPath}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ context, artifacts }, null, 2)}\n`);
    renameSync(tmp, this.outputPath);
  }

  /** Phase id -> { name?, context, artifacts } for every phase this one can see. */
  ledger() {
    if (this.ledgerPhases) return this.ledgerPhases;
    const phases = {};
    const direct = this.directSources();
    for (const [id, dep] of direct) {
      const ref = dep.artifacts?.ledger;
      if (ref) Object.assign(phases, readJsonFile(this.checkArtifact('ledger', id, ref), 'ledger').phases ?? {});
    }
    // The package is the authority on the direct dependencies' results.
    for (const [id, dep] of direct) {
      phases[id] = { ...phases[id], context: dep.context ?? {}, artifacts: dep.artifacts ?? {} };
    }
    this.ledgerPhases = phases;
    return phases;
  }

  directSources() {
    const sources = new Map(Object.entries(this.pkg.dependency_contexts ?? {}).sort(byIdDescending));
    const previous = this.pkg.previous_phase_context;
    const from = this.pkg.from_phase;
    if (previous && typeof previous === 'object' && from !== undefined && from !== null) {
      if (!sources.has(String(from))) sources.set(String(from), previous);
    }
    return [...sources];
  }

  /** Direct dependencies first, then (only if needed) every ledger entry, latest phase first. */
  *sources() {
    const direct = this.directSources();
    yield* direct;
    const seen = new Set(direct.map(([id]) => id));
    yield* Object.entries(this.ledger()).filter(([id]) => !seen.has(id)).sort(byIdDescending);
  }

  checkArtifact(name, id, ref) {
    const rel = typeof ref === 'string' ? ref : ref?.path;
    if (typeof rel !== 'string') fail(`artifact "${name}" of phase ${id} has no path`);
    const abs = path.resolve(this.workdir, rel);
    const fromWorkdir = path.relative(this.workdir, abs);
    if (fromWorkdir.startsWith('..') || path.isAbsolute(fromWorkdir)) {
      fail(`artifact "${name}" of phase ${id} points outside the workdir: ${rel}`);
    }
    if (!existsSync(abs)) fail(`artifact "${name}" of phase ${id} is missing: ${abs}; re-run phase ${id}`);
    const expected = typeof ref === 'object' ? ref.sha256 : undefined;
    if (expected && !this.checkedFiles.has(abs)) {
      const actual = sha256(readFileSync(abs));
      if (actual !== expected) {
        fail(`artifact "${name}" of phase ${id} changed after phase ${id} produced it (sha256 ` +
          `${actual.slice(0, 12)}, expected ${expected.slice(0, 12)}); re-run phase ${id} and the phases after it`);
      }
      this.checkedFiles.add(abs);
    }
    return abs;
  }
}

function checkPackage(pkg, file) {
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(pkg)) fail(`${file} is not a handoff package (expected a JSON object)`);
  if (typeof pkg.to_phase !== 'number' && typeof pkg.to_phase !== 'string') {
    fail(`${file} has no to_phase: it is not a handoff package`);
  }
  for (const key of ['global_context', 'dependency_contexts', 'phase_config', 'shared_artifacts']) {
    if (pkg[key] !== undefined && pkg[key] !== null && !isObject(pkg[key])) fail(`${file}: ${key} must be an object`);
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

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

function listKeys(object) {
  const keys = Object.keys(object);
  return keys.length ? `phases ${keys.join(', ')}` : 'no phases';
}

function byIdDescending([a], [b]) {
  const [na, nb] = [Number(a), Number(b)];
  if (Number.isFinite(na) && Number.isFinite(nb)) return nb - na;
  return String(b).localeCompare(String(a));
}
