/**
 * Where Ajv runs: a small pool of worker threads, each job with a time limit past which its thread
 * is terminated (and replaced), and a memory limit per thread.
 *
 * A phase's `output_schema` is the plan's and a result is an agent's: neither is trusted. A pattern
 * that backtracks (`^(a+)+$` against 34 `a`s and a `!` takes a minute) freezes whatever thread
 * matches it, and on the orchestrator worker the main thread serves every run's workflow tasks,
 * queries and activities. A regular expression cannot be interrupted, only its thread stopped: so
 * nothing of Ajv runs on the caller's thread, and the caller's event loop stays free meanwhile.
 *
 * The thread's program is a string run with `eval: true` (CommonJS), so that it works the same from
 * the compiled `dist/` and from the TypeScript sources the unit tests load; it requires Ajv by the
 * absolute paths this module resolves.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Where a finding is: keys and array indexes, from the root of the document checked. */
export type FindingPath = Array<string | number>;

export interface Finding {
  /** Null for a problem with the schema as a whole (Ajv's strict mode, a pattern that is not a regular expression). */
  path: FindingPath | null;
  keyword?: string;
  message: string;
  params?: Record<string, unknown>;
}

export type ThreadAnswer =
  /** The schema compiles (and the value, if one was sent, matches it). */
  | { valid: true }
  /** The value does not match; `total` counts every finding, of which the first few are sent. */
  | { valid: false; findings: Finding[]; total: number }
  /** The schema itself is not a valid JSON Schema (draft 2020-12). */
  | { invalid: Finding[] }
  | { failed: string }
  | { timedOut: true };

export interface ThreadJob {
  /** The schema, as JSON. */
  schema: string;
  /** The value to check, as JSON; absent to compile the schema only. */
  value?: string;
}

/** Findings sent back per check: a refusal names the first few, and how many there are. */
export const MAX_FINDINGS = 10;
/** How long a fresh thread may take to load Ajv (not counted in a job's time limit). */
const STARTUP_MS = 30_000;
/** A thread's heap: room for a value at the size limit and Ajv's errors, never the worker's whole memory. */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 };

export const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

const THREAD_PROGRAM = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Ajv2020 = require(workerData.ajv).default;
const addFormats = require(workerData.formats).default;
const DRAFT = workerData.draft;
const MAX_FINDINGS = workerData.maxFindings;
const compiled = new Map();

// A JSON Pointer as keys and indexes: a segment is an index only where the document holds a list.
function pathOf(root, pointer) {
  const path = [];
  if (!pointer) return path;
  let at = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(at) && /^(0|[1-9][0-9]*)$/.test(key);
    path.push(index ? Number(key) : key);
    at = at !== null && typeof at === 'object' ? at[key] : undefined;
  }
  return path;
}

function findings(root, errors) {
  return errors.slice(0, MAX_FINDINGS).map((e) => ({ path: pathOf(root, e.instancePath), keyword: e.keyword, message: e.message || e.keyword, params: e.params }));
}

// The meta-schema's errors, one per place (the first says it best: "must be equal to one of the allowed values").
function schemaFindings(schema, errors) {
  const seen = new Set();
  return findings(schema, errors.filter((e) => !seen.has(e.instancePath) && seen.add(e.instancePath)));
}

function build(schema) {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return { invalid: [{ path: null, message: 'must be an object' }] };
  if (schema.$schema !== undefined && schema.$schema !== DRAFT && schema.$schema !== DRAFT + '#') {
    return { invalid: [{ path: ['$schema'], message: 'is ' + JSON.stringify(schema.$schema).slice(0, 80) + ': Baton checks with draft 2020-12; remove "$schema", or make it "' + DRAFT + '"' }] };
  }
  // strict: an unknown keyword or format is a typo, not something to ignore. multipleOfPrecision:
  // 0.07 is a multiple of 0.01, whatever floating point says.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, multipleOfPrecision: 9 });
  addFormats(ajv);
  if (!ajv.validateSchema(schema)) return { invalid: schemaFindings(schema, ajv.errors || []) };
  try {
    return { validate: ajv.compile(schema) };
  } catch (err) {
    // Ajv's words, less what is not so here: an unknown format is refused, not ignored.
    const message = String((err && err.message) || err).split('\n')[0].replace(/^(unknown format "[^"]*") ignored in schema at path "([^"]*)"$/, '$1 at "$2"');
    return { invalid: [{ path: null, message }] };
  }
}

function validatorFor(text) {
  let entry = compiled.get(text);
  if (!entry) {
    if (compiled.size >= 64) compiled.clear();
    entry = build(JSON.parse(text));
    compiled.set(text, entry);
  }
  return entry;
}

parentPort.on('message', (job) => {
  let answer;
  try {
    const entry = validatorFor(job.schema);
    if (entry.invalid) answer = { invalid: entry.invalid };
    else if (job.value === undefined) answer = { valid: true };
    else {
      const value = JSON.parse(job.value);
      answer = entry.validate(value) ? { valid: true } : { valid: false, findings: findings(value, entry.validate.errors || []), total: (entry.validate.errors || []).length };
    }
  } catch (err) {
    answer = { failed: String((err && err.message) || err) };
  }
  parentPort.postMessage(answer);
});
parentPort.postMessage({ ready: true });
`;

let modules: { ajv: string; formats: string } | undefined;

function ajvModules(): { ajv: string; formats: string } {
  if (!modules) {
    const require = createRequire(import.meta.url);
    modules = { ajv: require.resolve('ajv/dist/2020'), formats: require.resolve('ajv-formats') };
  }
  return modules;
}

class SchemaThread {
  readonly ready: Promise<void>;
  dead = false;
  private readonly worker: Worker;
  private settle: ((answer: ThreadAnswer) => void) | undefined;

  constructor() {
    this.worker = new Worker(THREAD_PROGRAM, {
      eval: true,
      workerData: { ...ajvModules(), draft: DRAFT_2020_12, maxFindings: MAX_FINDINGS },
      resourceLimits: RESOURCE_LIMITS,
    });
    // An idle thread never keeps a process (`baton run`, a test) alive; one with a job does.
    this.worker.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (message: ThreadAnswer | { ready: true }) => {
        if ('ready' in message) resolve();
        else this.answer(message);
      });
      this.worker.on('error', (err: Error) => {
        this.dead = true;
        reject(err);
        this.answer({ failed: (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? `it ran out of memory (${RESOURCE_LIMITS.maxOldGenerationSizeMb} MB)` : err.message });
      });
      this.worker.on('exit', (code) => {
        this.dead = true;
        reject(new Error(`its thread stopped (exit code ${code})`));
        this.answer({ failed: `its thread stopped (exit code ${code})` });
      });
    });
    this.ready.catch(() => undefined);
  }

  run(job: ThreadJob, timeoutMs: number): Promise<ThreadAnswer> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.settle = undefined;
        this.stop();
        resolve({ timedOut: true });
      }, timeoutMs);
      this.settle = (answer) => {
        clearTimeout(timer);
        this.settle = undefined;
        this.worker.unref();
        resolve(answer);
      };
      this.worker.ref();
      this.worker.postMessage(job);
    });
  }

  stop(): void {
    this.dead = true;
    void this.worker.terminate();
  }

  private answer(answer: ThreadAnswer): void {
    this.settle?.(answer);
  }
}

/** A few threads shared by every check in the process; jobs beyond them wait their turn. */
export class SchemaThreadPool {
  private readonly idle: SchemaThread[] = [];
  private live = 0;
  private readonly waiting: Array<(thread: SchemaThread) => void> = [];

  constructor(private readonly size = 2) {}

  /** Runs a job on a thread, stopping the thread if the job takes longer than `timeoutMs`. Never throws. */
  async run(job: ThreadJob, timeoutMs: number): Promise<ThreadAnswer> {
    const thread = await this.acquire();
    try {
      try {
        await withTimeout(thread.ready, STARTUP_MS);
      } catch (err) {
        thread.stop();
        return { failed: `the checker could not start (${(err as Error).message})` };
      }
      return await thread.run(job, timeoutMs);
    } finally {
      this.release(thread);
    }
  }

  private acquire(): Promise<SchemaThread> {
    for (let thread = this.idle.pop(); thread; thread = this.idle.pop()) {
      if (!thread.dead) return Promise.resolve(thread);
      this.live -= 1;
    }
    if (this.live < this.size) {
      this.live += 1;
      return Promise.resolve(new SchemaThread());
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(thread: SchemaThread): void {
    const next = this.waiting.shift();
    if (!thread.dead) {
      if (next) next(thread);
      else this.idle.push(thread);
    } else if (next) {
      next(new SchemaThread());
    } else {
      this.live -= 1;
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
