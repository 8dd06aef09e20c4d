/**
 * `baton execute-phase <package.json>`: run one phase from its handoff package on any machine.
 * The package is validated first (signature included): nothing runs from a package that was
 * changed, or whose dependencies or files are not all there.
 *
 * A package handed to a separate agent (the guide's mode 2) is reported back to its run through
 * the `completePhase` update, or, with --offline, written as a sealed result for `baton submit`.
 * Any other package (mode 3, by hand) just prints what the phase produced.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { defaultExecutor, executePhase, PhaseExecutionError } from '../../runner/execute-phase.js';
import { writeFileAtomic } from '../../runner/handoff-files.js';
import { isBundleName, unpackPhaseBundle, writeResultBundle } from '../../runner/bundle.js';
import { agentProvenance, buildAgentResult, type AgentOutcome } from '../../client/agent-result.js';
import { connectClient } from '../../client/connection.js';
import { committedOutputProblems, recordedPackageProblem } from '../../client/recorded-package.js';
import { readStructuredFile } from '../../client/load-plan.js';
import { Orchestrator } from '../../client/orchestrator.js';
import { HandoffPackageSchema, type HandoffPackage } from '../../core/handoff/schema.js';
import { cachedWorkdir, configuredStore, pullPackageInputs } from '../../runner/store/sync.js';
import { resolveWorkdir } from '../../runner/workdir.js';
import { verifyKeysFromEnv } from '../../runner/signing.js';
import { validatePackage } from '../../runner/validate-package.js';
import { PlanError } from '../../core/plan/problems.js';
import { action, UsageError } from '../errors.js';
import { loadHandlers } from './worker.js';

interface ExecuteOptions {
  out?: string;
  root?: string;
  handlers?: string;
  workdir?: string;
  allowUnsigned?: boolean;
  offline?: boolean;
  report: boolean;
}

export function registerExecutePhase(program: Command): void {
  program
    .command('execute-phase')
    .description('validate a handoff package, run its phase here, and report the result (or print it)')
    .argument('<package>', 'handoff package (<workdir>/runs/<run>/handoffs/phase_<id>.json)')
    .option('--out <file>', 'also write the result JSON here (with --offline: where the result goes); a name ending .tar.gz writes a result bundle, the result with its files, for `baton submit`')
    .option('--offline', 'do not contact Temporal: write a sealed result to --out, to `baton submit` later')
    .option('--no-report', 'run and print the result, without reporting it to the run')
    .option('--handlers <module>', 'JS module exporting handler functions, for handler phases')
    .option('--workdir <dir>', "the run's workdir on this machine, if not where the package says")
    .option('--root <dir>', "where the phase's command runs: this machine's copy of the code (default: the plan's directory; with BATON_STORE, the current directory)")
    .option('--allow-unsigned', 'run a package that has no signature, once it matches what its run recorded (a changed one is refused)')
    .action(
      action(async (given: string, opts: ExecuteOptions) => {
        if (opts.offline && !opts.out) throw new UsageError('--offline needs --out <file> for the result, to submit later with `baton submit <file>`');
        let file = given;
        if (isBundleName(given)) {
          // A phase bundle: its package and its workdir, unpacked beside it, where the work stays.
          const unpacked = await unpackPhaseBundle(given);
          file = unpacked.packageFile;
          opts.workdir ??= unpacked.workdir;
          console.error(`${given}: unpacked into ${unpacked.dir} (the phase's files are under ${unpacked.workdir})`);
        }
        const json = await readStructuredFile(file, 'the handoff package');
        const workdir = await fetchInputs(json, opts.workdir ? path.resolve(opts.workdir) : undefined);
        const checked = await validatePackage(json, {
          keys: verifyKeysFromEnv(),
          allowUnsigned: opts.allowUnsigned === true,
          ...(workdir ? { workdir } : {}),
        });
        if (checked.problems.length > 0 || !checked.pkg) {
          throw new PlanError(`the handoff package ${file}`, checked.problems.map((p) => `${p.path}: ${p.message}`));
        }
        const pkg = checked.pkg;
        if (!pkg.signature) await checkUnsigned(pkg, file, opts, workdir);
        const forAgent = pkg.execution_instructions.mode === 'separate_agent' && opts.report;
        if (!forAgent) return runByHand(pkg, opts, workdir);

        // Online: connect before the work, so a wrong address is found now, not hours later.
        const run = opts.offline ? undefined : new Orchestrator(await connectClient()).run(pkg.execution_id);
        await run?.reportProgress(pkg.to_phase, `started by ${process.env.BATON_AGENT_NAME ?? defaultExecutor()}`).catch(() => undefined);
        const startedAt = new Date();
        const outcome = await runForAgent(pkg, opts, workdir);
        const result = buildAgentResult(pkg, outcome, agentProvenance(opts.offline ? 'offline' : 'online', startedAt, new Date()));
        if (opts.out && isBundleName(opts.out)) await writeResultBundle(opts.out, result, workdir ?? (configuredStore(pkg.execution_instructions.store) ? cachedWorkdir(pkg) : resolveWorkdir(pkg.execution_instructions.workdir, pkg.execution_instructions.base_dir)));
        else if (opts.out) await writeFileAtomic(opts.out, `${JSON.stringify(result, null, 2)}\n`);
        const what = `phase ${String(pkg.to_phase)} (${pkg.phase_name}) ${result.outcome}`;
        if (!run) {
          console.log(`${what}; result sealed in ${opts.out}. From a machine that reaches Temporal: baton submit ${opts.out}`);
          return;
        }
        try {
          await run.complete(result);
        } catch (err) {
          const saved = opts.out ?? `${file.replace(/\.json$/, '')}.result.json`;
          if (!opts.out) await writeFileAtomic(saved, `${JSON.stringify(result, null, 2)}\n`);
          throw new Error(`run ${pkg.execution_id} refused the result: ${(err as Error).message} (the result is saved in ${saved})`);
        }
        console.log(`${what}; run ${pkg.execution_id} accepted the result`);
        if (result.outcome === 'failed') process.exitCode = 1;
      }),
    );
}

/**
 * With a store (BATON_STORE), the package's inputs are fetched into this machine's copy of the
 * workdir (--workdir, else a cache of its own) before it is checked; returns that workdir. Without
 * one, the workdir is where the package or --workdir says, as it is.
 */
async function fetchInputs(json: unknown, workdir: string | undefined): Promise<string | undefined> {
  const parsed = HandoffPackageSchema.safeParse(json);
  const store = parsed.success ? configuredStore(parsed.data.execution_instructions.store) : undefined;
  if (!store || !parsed.success) return workdir; // a package that does not parse is reported by validatePackage
  const local = workdir ?? cachedWorkdir(parsed.data);
  try {
    await pullPackageInputs(store, parsed.data, local);
  } catch (err) {
    throw new Error(`the inputs of phase ${String(parsed.data.to_phase)} could not be fetched from the store ${store.description}: ${(err as Error).message}`);
  }
  return local;
}

/**
 * An unsigned package vouches for nothing (its content_hash has no key: anyone can recompute it),
 * so it runs only once it is what its run recorded: online, the package the run's history holds
 * for the phase and generation, field for field; offline, its dependencies' outputs against those
 * the run committed on this machine, and it says that its command could not be checked.
 */
async function checkUnsigned(pkg: HandoffPackage, file: string, opts: ExecuteOptions, workdir: string | undefined): Promise<void> {
  const what = `the handoff package ${file}`;
  if (opts.offline) {
    const here = workdir ?? path.resolve(pkg.execution_instructions.base_dir ?? process.cwd(), pkg.execution_instructions.workdir);
    const { problems, checked } = await committedOutputProblems(pkg, here);
    if (problems.length > 0) throw new PlanError(what, problems);
    console.error(
      `${file} is unsigned and checked offline: its content hash, the files it references` +
        `${checked.length > 0 ? `, and the outputs of phases ${checked.join(', ')} against those the run committed here` : ''}; ` +
        `not checked: that its command and config are those run ${pkg.execution_id} handed out (that needs its history: run it online, or sign packages)`,
    );
    return;
  }
  let client;
  try {
    client = await connectClient();
  } catch (err) {
    throw new PlanError(what, [`it is unsigned, so it runs only once it matches what run ${pkg.execution_id} recorded, and ${(err as Error).message}; or pass --offline to check it against the run's files here only`]);
  }
  const problem = await recordedPackageProblem(client, pkg);
  if (problem) throw new PlanError(what, [`it is unsigned and ${problem}; run the package the run handed out`]);
}

function executeOptions(pkg: HandoffPackage, handlers: Awaited<ReturnType<typeof loadHandlers>>, workdir: string | undefined, root: string | undefined) {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return {
    attempt: pkg.attempt,
    writeHandoffFiles: false,
    handlers,
    executedBy: process.env.BATON_AGENT_NAME ?? defaultExecutor(),
    signal: controller.signal,
    heartbeat: () => undefined,
    ...(workdir ? { workdir } : {}),
    ...(root ? { root } : {}),
  };
}

async function runByHand(pkg: HandoffPackage, opts: ExecuteOptions, workdir: string | undefined): Promise<void> {
  const result = await executePhase(pkg, executeOptions(pkg, await loadHandlers(opts.handlers), workdir, opts.root === undefined ? undefined : path.resolve(opts.root)));
  const text = `${JSON.stringify(result, null, 2)}\n`;
  if (opts.out) await writeFileAtomic(opts.out, text);
  else process.stdout.write(text);
  if (opts.offline && pkg.execution_instructions.mode !== 'separate_agent') {
    // An agent that expected its own package must not learn this hours later from `baton submit`.
    console.error(
      `${opts.out ?? 'the output above'} is phase ${String(pkg.to_phase)}'s output from a worker's package (generation ${pkg.generation}), not a result: there is nothing to submit. ` +
        `Its run runs the phase on a worker (an agent's wait that timed out falls back to one, rewriting the package file); \`baton handoff list ${pkg.execution_id}\` shows every package it handed out`,
    );
  }
}

/** A phase that fails is a result too: the run hears about it and holds for an operator. */
async function runForAgent(pkg: HandoffPackage, opts: ExecuteOptions, workdir: string | undefined): Promise<AgentOutcome> {
  try {
    const ran = await executePhase(pkg, executeOptions(pkg, await loadHandlers(opts.handlers), workdir, opts.root === undefined ? undefined : path.resolve(opts.root)));
    return { ok: true, output: { context: ran.context, artifacts: ran.artifacts } };
  } catch (err) {
    if (err instanceof PhaseExecutionError) return { ok: false, error: err.message };
    throw err;
  }
}
