/**
 * `baton execute-phase <package.json>`: the guide's mode 3, running one phase by hand
 * from its handoff package on any machine, with no worker and no Temporal connection.
 * The package is validated first (signature included): nothing runs from a package that
 * was changed, or whose dependencies or files are not all there.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { defaultExecutor, executePhase } from '../../activities/execute-phase.js';
import { writeFileAtomic } from '../../activities/handoff-files.js';
import { verifyKeysFromEnv } from '../../handoff/signing.js';
import { validatePackage } from '../../handoff/validate-package.js';
import { PlanError } from '../../plan/problems.js';
import { action } from '../errors.js';
import { readJsonFile } from './handoff.js';
import { loadHandlers } from './worker.js';

interface ExecuteOptions {
  out?: string;
  handlers?: string;
  workdir?: string;
  allowUnsigned?: boolean;
}

export function registerExecutePhase(program: Command): void {
  program
    .command('execute-phase')
    .description('validate a handoff package, run its phase here, and print the result')
    .argument('<package>', 'handoff package (handoffs/phase_<id>.json)')
    .option('--out <file>', 'write the result JSON here instead of stdout')
    .option('--handlers <module>', 'JS module exporting handler functions, for handler phases')
    .option('--workdir <dir>', "the run's workdir on this machine, if not where the package says")
    .option('--allow-unsigned', 'run a package that has no signature (a changed one is still refused)')
    .action(
      action(async (file: string, opts: ExecuteOptions) => {
        const workdir = opts.workdir ? path.resolve(opts.workdir) : undefined;
        const checked = await validatePackage(await readJsonFile(file, 'package'), {
          keys: verifyKeysFromEnv(),
          allowUnsigned: opts.allowUnsigned === true,
          ...(workdir ? { workdir } : {}),
        });
        if (checked.problems.length > 0 || !checked.pkg) {
          throw new PlanError(`the handoff package ${file}`, checked.problems.map((p) => `${p.path}: ${p.message}`));
        }
        const controller = new AbortController();
        process.once('SIGINT', () => controller.abort());
        const result = await executePhase(checked.pkg, {
          attempt: checked.pkg.attempt,
          writeHandoffFiles: false,
          handlers: await loadHandlers(opts.handlers),
          executedBy: defaultExecutor(),
          signal: controller.signal,
          heartbeat: () => undefined,
          ...(workdir ? { workdir } : {}),
        });
        const text = `${JSON.stringify(result, null, 2)}\n`;
        if (opts.out) await writeFileAtomic(opts.out, text);
        else process.stdout.write(text);
      }),
    );
}
