/**
 * `baton handoff list|show|validate`: the packages of a run, as saved under its workdir.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { connectClient } from '../../client/connection.js';
import { readStructuredFile } from '../../client/load-plan.js';
import { Orchestrator } from '../../client/orchestrator.js';
import { bundlePhase, runFilesOf } from '../../client/phase-bundle.js';
import { attemptFileName, executeScriptName, executeScriptProblem, handoffFileName } from '../../runner/handoff-files.js';
import { HandoffPackageSchema } from '../../core/handoff/schema.js';
import { verifyKeysFromEnv } from '../../runner/signing.js';
import { formatProblems, validatePackage } from '../../runner/validate-package.js';
import { handoffsDirOf } from '../../runner/workdir.js';
import { action, UsageError } from '../errors.js';

/** The run's handoffs directory (`<workdir>/runs/<run>/handoffs`), and the run id its packages carry. */
async function handoffsDir(runId: string): Promise<{ dir: string; executionId: string }> {
  const status = await new Orchestrator(await connectClient()).run(runId).status();
  const dir = handoffsDirOf(path.resolve(status.workdir), status.execution_id);
  if (!status.handoffs_enabled) throw new UsageError(`run ${runId} does not save packages (agent_handoff_enabled is false in its config)`);
  if (!existsSync(dir)) throw new UsageError(`run ${runId}'s packages are in ${dir}, which is not on this machine`);
  return { dir, executionId: status.execution_id };
}


export function registerHandoff(program: Command): void {
  const handoff = program.command('handoff').description("a run's handoff packages");

  handoff
    .command('list')
    .description('every package the run has made: one per phase, generation and attempt')
    .argument('<run-id>')
    .option('--json', 'print as JSON')
    .action(
      action(async (runId: string, opts: { json?: boolean }) => {
        const { dir: handoffs, executionId } = await handoffsDir(runId);
        const dir = path.join(handoffs, 'attempts');
        const files = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith('.json')) : [];
        const rows = [];
        for (const file of files) {
          const pkg = HandoffPackageSchema.parse(await readStructuredFile(path.join(dir, file), 'the handoff package'));
          // <workdir>/handoffs of a run from before runs had directories of their own may hold other runs' packages.
          if (pkg.execution_id !== executionId) continue;
          rows.push({
            phase: String(pkg.to_phase),
            name: pkg.phase_name,
            generation: pkg.generation,
            attempt: pkg.attempt,
            created_at: pkg.created_at,
            content_hash: pkg.content_hash,
            signed_by: pkg.signature?.key_id ?? null,
            file: path.join(dir, file),
          });
        }
        rows.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.phase.localeCompare(b.phase));
        if (opts.json) return console.log(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return console.log(`run ${runId} has no saved packages yet`);
        for (const r of rows) {
          console.log(`phase ${r.phase} (${r.name})  gen ${r.generation} attempt ${r.attempt}  ${r.created_at}  ${r.content_hash?.slice(0, 19) ?? 'unsealed'}…  ${r.signed_by ?? 'unsigned'}`);
        }
      }),
    );

  handoff
    .command('bundle')
    .description("write a phase's package and every file it references into one .tar.gz, for an agent with neither the workdir nor the store")
    .argument('<run-id>')
    .argument('<phase>')
    .requiredOption('-o, --out <file>', 'the bundle to write (phase.tar.gz)')
    .action(
      action(async (runId: string, phase: string, opts: { out: string }) => {
        const status = await new Orchestrator(await connectClient()).run(runId).status();
        const made = await bundlePhase(runFilesOf(status), phase, opts.out);
        console.log(`${opts.out}: phase ${phase} (${made.pkg.phase_name}), generation ${made.pkg.generation}, with ${made.files} file${made.files === 1 ? '' : 's'} (${made.bytes} bytes); its README.md says what to do`);
      }),
    );

  handoff
    .command('show')
    .description("print a phase's package (the latest, or one generation and attempt)")
    .argument('<run-id>')
    .argument('<phase>')
    .option('--generation <n>', 'which generation (retryPhase makes a new one)')
    .option('--attempt <n>', 'which attempt of that generation', '1')
    .action(
      action(async (runId: string, phase: string, opts: { generation?: string; attempt: string }) => {
        const { dir, executionId } = await handoffsDir(runId);
        const file = opts.generation
          ? path.join(dir, 'attempts', attemptFileName(phase, Number(opts.generation), Number(opts.attempt)))
          : path.join(dir, handoffFileName(phase));
        const text = existsSync(file) ? await readFile(file, 'utf8') : undefined;
        // <workdir>/handoffs, from before runs had directories of their own, is shared by a plan's runs.
        if (!text || (JSON.parse(text) as { execution_id?: unknown }).execution_id !== executionId) {
          throw new UsageError(`run ${runId} has no package at ${file}; \`baton handoff list ${runId}\` shows the ones there are`);
        }
        process.stdout.write(text);
      }),
    );

  handoff
    .command('validate')
    .description("check a package: schema, dependencies, referenced files and their hashes, signature, no credentials, and that the execute_phase_<id>.sh beside it is Baton's")
    .argument('<package>')
    .option('--workdir <dir>', "the run's workdir on this machine, if not where the package says")
    .option('--allow-unsigned', 'accept a package without a signature (its content hash is still checked)')
    .action(
      action(async (file: string, opts: { workdir?: string; allowUnsigned?: boolean }) => {
        const result = await validatePackage(await readStructuredFile(file, 'the handoff package'), {
          keys: verifyKeysFromEnv(),
          allowUnsigned: opts.allowUnsigned === true,
          ...(opts.workdir ? { workdir: path.resolve(opts.workdir) } : {}),
        });
        // The script beside the package (or beside attempts/, for an attempt's copy) must be Baton's own.
        if (result.pkg) {
          const dir = path.dirname(path.resolve(file));
          const key = String(result.pkg.to_phase);
          const script = await executeScriptProblem(path.basename(dir) === 'attempts' ? path.dirname(dir) : dir, key);
          if (script) result.problems.push({ path: executeScriptName(key), message: script });
        }
        if (result.problems.length > 0) {
          console.error(`${file} is not valid:\n${formatProblems(result.problems)}`);
          process.exitCode = 1;
          return;
        }
        console.log(`${file} is valid: phase ${String(result.pkg!.to_phase)} of run ${result.pkg!.execution_id}, ${result.pkg!.content_hash ?? ''}`);
      }),
    );
}
