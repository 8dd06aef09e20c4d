/**
 * Executes one phase from its handoff package. Knows nothing of Temporal, so the same code
 * serves the `runPhase` activity and `baton execute-phase` on a machine with no worker.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PhaseOutputFileSchema, type HandoffPackage, type PhaseOutputFile } from '../core/handoff/schema.js';
import { redactSecrets } from '../core/handoff/secrets.js';
import { zodProblems } from '../core/plan/problems.js';
import { checkHere } from './can-run-here.js';
import { ContextUnavailableError, hydratePackage, packageHasRefs } from './context-store.js';
import type { PhaseHandlers } from './handlers.js';
import { PhaseExecutionError } from './phase-error.js';
import { collectOutput } from './phase-output.js';
import { readOutputText } from './output-limits.js';
import { prepareHandoff } from './prepare-handoff.js';
import { GuardianLostError, runCommand } from './run-command.js';
import type { PhaseRunResult } from './phase-result.js';
import { attemptStem, claimAttemptLogs, commitOutput } from './attempt-files.js';
import { ensureRunPaths, resolveWorkdir, type RunPaths } from './workdir.js';
import { StoreError } from './store/errors.js';
import type { Store } from './store/store.js';
import { cachedWorkdir, configuredStore, pullPackageInputs, pushContext, pushRunFile } from './store/sync.js';

export { PhaseExecutionError };

export interface ExecuteOptions {
  attempt: number;
  /** Seal and save the package under `<workdir>/handoffs/` (the guide's agent_handoff_enabled). */
  writeHandoffFiles: boolean;
  handlers: PhaseHandlers;
  executedBy: string;
  signal: AbortSignal;
  heartbeat: (details?: unknown) => void;
  /** The run's workdir on this machine, when it is not where the package says. */
  workdir?: string;
  /** Which dispatch of this generation (more than 1 when an earlier worker was lost), so files never collide. */
  dispatch?: number;
  /** The Temporal run that dispatched this attempt (a worker's), which names the files of one dispatched again after a Reset. */
  dispatchedIn?: string;
  /** A worker, which seals packages for others: a run that requires signed packages needs its key here. */
  seals?: boolean;
  /**
   * Where the phase's command runs (`baton worker --root`): the worker's code, wherever the plan was
   * on the machine that submitted it. Unset: the plan's directory, or with a store this process's cwd.
   */
  root?: string;
  /** The store the run's files meet in; unset, the one BATON_STORE names (none: the workdir is the store). */
  store?: Store | null;
}

/**
 * The same for every attempt and dispatch of one generation of a phase: a phase keys its external
 * effects on it (an INSERT … ON CONFLICT, an object name, a create-if-absent file) to make them
 * happen once however often it runs.
 */
export function idempotencyKey(pkg: HandoffPackage): string {
  return `${pkg.execution_id}:${String(pkg.to_phase)}:g${pkg.generation}`;
}

export function defaultExecutor(): string {
  return process.env.BATON_WORKER_NAME ?? `${os.hostname()}:${process.pid}`;
}

export async function executePhase(input: HandoffPackage, opts: ExecuteOptions): Promise<PhaseRunResult> {
  const startedAt = new Date();
  const key = String(input.to_phase);
  const instructions = input.execution_instructions;
  const label = `phase ${key} (${input.phase_name})`;
  const store = opts.store === undefined ? configuredStore(instructions.store) : (opts.store ?? undefined);
  // With a store, this machine's copy of the workdir is a cache of its own, filled from the store.
  const workdir = opts.workdir ?? (store ? cachedWorkdir(input) : resolveWorkdir(instructions.workdir, instructions.base_dir));
  const cwd = opts.root ?? (store ? process.cwd() : (instructions.base_dir ?? workdir));
  const verified = store ? await withStore(label, store, 'fetch its inputs from', () => pullPackageInputs(store, input, workdir)) : undefined;

  // Inputs first. What this machine lacks, another worker may have: said so, not a failure of the
  // phase. A dependency's file that is here but changed since it was recorded is caught before the
  // phase runs on it; retrying cannot bring it back, so it is not retried. With a store, what the
  // store lacks too is gone for every worker.
  const here = await checkHere(input, workdir, { seals: opts.seals === true, cwd: instructions.command ? cwd : undefined, cache: verified, named: opts.workdir !== undefined });
  if (here.missing.length > 0) throw new PhaseExecutionError('WorkerCannotRun', `${label} cannot run here: ${here.missing.join('; ')}`);
  if (here.changed.length > 0) {
    throw new PhaseExecutionError('DependencyFileChanged', `${label} cannot run: ${here.changed.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
  const paths = await ensureRunPaths(workdir, input.execution_id);

  const prepared = await prepareHandoff({ ...input, attempt: opts.attempt }, paths.handoffs, opts.writeHandoffFiles, label, attemptStem(input, opts.attempt, opts));
  let readable: HandoffPackage;
  try {
    readable = packageHasRefs(prepared.pkg) ? await hydratePackage(prepared.pkg, paths.workdir) : prepared.pkg;
  } catch (err) {
    if (err instanceof ContextUnavailableError) throw new PhaseExecutionError('ContextUnavailable', `${label} cannot read its dependencies' context: ${err.message}`);
    throw err;
  }

  let output: PhaseOutputFile;
  if (instructions.command) {
    output = await runCommandPhase(readable, readable === prepared.pkg ? prepared.savedPath : null, instructions.command, { paths, cwd, store }, opts, label);
  } else if (instructions.handler) {
    output = await runHandlerPhase(readable, instructions.handler, paths.workdir, opts, label);
  } else {
    throw new PhaseExecutionError('InvalidHandoff', `${label} has neither a command nor a handler`);
  }

  const context = await collectOutput(paths.workdir, output, label, input.safe_keys, instructions.command ? 'InvalidPhaseOutput' : 'InvalidHandlerOutput');
  // Cancelled meanwhile: the run will not take this output, so it is not committed either.
  if (opts.signal.aborted) throw new PhaseExecutionError('PhaseCancelled', `${label} was cancelled`);
  // The accepted output of the phase, committed in one rename: a retried or re-dispatched phase
  // never leaves half of one, and there is one per phase whatever ran how often.
  const committed = await commitOutput(
    paths,
    key,
    input.generation,
    `${JSON.stringify({ execution_id: input.execution_id, phase: input.to_phase, generation: input.generation, attempt: opts.attempt, idempotency_key: idempotencyKey(input), ...context }, null, 2)}\n`,
  );
  if (store) {
    // Stored before the phase reports: a dependant on any machine finds what the run records.
    // At once: on S3 each is a request whose round trip, not its bytes, is most of its cost.
    await withStore(label, store, 'store its output in', () =>
      Promise.all([
        pushContext(store, paths.workdir, context, `${label}'s`),
        ...[...(committed ? [committed] : []), ...prepared.savedFiles].map((file) => pushRunFile(store, paths.workdir, file)),
      ]),
    );
  }
  return {
    ...context,
    attempt: opts.attempt,
    executed_by: opts.executedBy,
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    handoff_path: prepared.savedPath,
    content_hash: prepared.pkg.content_hash,
    handoff_fallback: prepared.fallback,
  };
}

/**
 * The command reads its package from BATON_HANDOFF: the saved package when it can be read as is,
 * else (files off, or context values to put back) a private copy for this attempt.
 */
async function runCommandPhase(
  pkg: HandoffPackage,
  savedPath: string | null,
  argv: string[],
  where: CommandPlace,
  opts: ExecuteOptions,
  label: string,
): Promise<PhaseOutputFile> {
  const stem = attemptStem(pkg, opts.attempt, opts);
  let scratch: string | null = null;
  let handoffPath = savedPath;
  if (!handoffPath) {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'baton-handoff-'));
    handoffPath = path.join(scratch, `${stem}.json`);
    await writeFile(handoffPath, JSON.stringify(pkg), { mode: 0o600 });
  }
  try {
    return await runCommandWith(pkg, handoffPath, argv, where, stem, opts, label);
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

async function runCommandWith(
  pkg: HandoffPackage,
  handoffPath: string,
  argv: string[],
  { paths, cwd, store }: CommandPlace,
  stem: string,
  opts: ExecuteOptions,
  label: string,
): Promise<PhaseOutputFile> {
  const key = String(pkg.to_phase);
  const { stdoutPath, stderrPath, outputPath } = await claimAttemptLogs(paths, stem);
  try {
    return await runAndRead(pkg, handoffPath, argv, { paths, cwd, store }, { stdoutPath, stderrPath, outputPath }, opts, label, key);
  } finally {
    // Each attempt's logs go to the store when it ends, whatever its end; the live tail stays here.
    if (store) await pushLogs(store, paths.workdir, [stdoutPath, stderrPath, outputPath]);
  }
}

async function runAndRead(
  pkg: HandoffPackage,
  handoffPath: string,
  argv: string[],
  { paths, cwd }: CommandPlace,
  { stdoutPath, stderrPath, outputPath }: { stdoutPath: string; stderrPath: string; outputPath: string },
  opts: ExecuteOptions,
  label: string,
  key: string,
): Promise<PhaseOutputFile> {
  let outcome;
  try {
    outcome = await runCommand({
      argv,
      cwd,
      env: {
        ...process.env,
        ...pkg.execution_instructions.env,
        BATON_HANDOFF: handoffPath,
        BATON_OUTPUT: outputPath,
        BATON_WORKDIR: paths.workdir,
        BATON_PHASE: key,
        BATON_ATTEMPT: String(opts.attempt),
        BATON_RUN_ID: pkg.execution_id,
        BATON_TASK_QUEUE: pkg.execution_instructions.task_queue,
        BATON_IDEMPOTENCY_KEY: idempotencyKey(pkg),
      },
      stdoutPath,
      stderrPath,
      signal: opts.signal,
    });
  } catch (err) {
    // The command did start, and was killed with its guardian: another attempt may well succeed.
    if (err instanceof GuardianLostError) throw new PhaseExecutionError('PhaseCommandFailed', `${label} was stopped: ${err.message} (full log: ${stderrPath})`);
    const code = (err as NodeJS.ErrnoException).code;
    // The cwd was checked before: a program spawn cannot find is missing on this worker, not in the plan.
    if (code === 'ENOENT') {
      throw new PhaseExecutionError('WorkerCannotRun', `${label} cannot run here: the program "${argv[0]}" is not on this worker (${os.hostname()}); install it, or check the command and the worker's PATH`);
    }
    throw new PhaseExecutionError('CommandNotStarted', `${label} could not start ${JSON.stringify(argv)} (${(err as Error).message})`);
  }
  if (opts.signal.aborted) throw new PhaseExecutionError('PhaseCancelled', `${label} was cancelled`);
  if (outcome.exitCode !== 0) {
    const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.exitCode}`;
    const tail = outcome.stderrTail.trim();
    throw new PhaseExecutionError('PhaseCommandFailed', `${label} ${how}${tail ? `: ${tail}` : ''} (full log: ${stderrPath})`);
  }
  const raw = await readOutputText(outputPath, `${label} wrote ${outputPath}`);
  if (raw === null) return { context: {}, artifacts: {} }; // writing an output is optional
  return parseOutput(raw, `${label} wrote ${outputPath}`);
}

async function runHandlerPhase(
  pkg: HandoffPackage,
  name: string,
  workdir: string,
  opts: ExecuteOptions,
  label: string,
): Promise<PhaseOutputFile> {
  const handler = opts.handlers[name];
  if (!handler) {
    const known = Object.keys(opts.handlers);
    throw new PhaseExecutionError(
      'UnknownHandler',
      `${label} names handler "${name}", which this worker does not register (it has: ${known.join(', ') || 'none'}); register it with the worker serving ${pkg.execution_instructions.task_queue}`,
    );
  }
  const returned = await handler({ handoff: pkg, workdir, attempt: opts.attempt, signal: opts.signal, heartbeat: opts.heartbeat });
  const output = PhaseOutputFileSchema.safeParse(returned ?? {});
  if (!output.success) {
    throw new PhaseExecutionError('InvalidHandlerOutput', `${label}: handler "${name}" returned a bad output: ${zodProblems(output.error).join('; ')}`);
  }
  return output.data;
}

function parseOutput(raw: string, where: string): PhaseOutputFile {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new PhaseExecutionError('InvalidPhaseOutput', `${where}, which is not JSON (${notJson(raw, err as Error)})`);
  }
  const output = PhaseOutputFileSchema.safeParse(json);
  if (!output.success) {
    throw new PhaseExecutionError(
      'InvalidPhaseOutput',
      `${where}, which is not {"context": {...}, "artifacts": {"name": "relative/path"}}: ${zodProblems(output.error).join('; ')}`,
    );
  }
  return output.data;
}

/** How many characters of an output that is not JSON its error quotes. */
const EXCERPT_CHARS = 60;

/**
 * Why `raw` is not JSON, and how it begins. V8's message quotes the first ten characters, cut
 * anywhere, so a credential there would be cut past recognising: its quote is replaced by one of
 * our own, taken from the start redacted whole (PhaseExecutionError redacts the rest).
 */
function notJson(raw: string, err: Error): string {
  const why = err.message.replace(/, ".*" is not valid JSON$|, ".*"\.\.\. is not valid JSON$/s, '');
  if (raw.trim() === '') return why;
  const start = redactSecrets(raw.slice(0, 4096));
  return `${why}; it begins ${JSON.stringify(start.slice(0, EXCERPT_CHARS))}${start.length > EXCERPT_CHARS ? '…' : ''}`;
}

/** Where a command runs: the run's paths on this machine, its cwd, and the store, if any. */
interface CommandPlace {
  paths: RunPaths;
  cwd: string;
  store: Store | undefined;
}

/**
 * Runs `work` against the store; a store that fails is StoreUnavailable (retried: it may be back,
 * or another worker may reach it), naming the store and the fix.
 */
async function withStore<T>(label: string, store: Store, doing: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof StoreError) throw new PhaseExecutionError('StoreUnavailable', `${label} could not ${doing} the store ${store.description}: ${err.message}`);
    throw err;
  }
}

/** An attempt's logs and output file, stored as they are when it ends; one that cannot be stored does not change how the attempt ended. */
async function pushLogs(store: Store, workdir: string, files: string[]): Promise<void> {
  for (const file of files) {
    await pushRunFile(store, workdir, file).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err instanceof StoreError && err.problem === 'local-file')) return; // not written
      process.emitWarning(`the log ${file} could not be stored in ${store.description}: ${(err as Error).message}`);
    });
  }
}
