/**
 * `baton execute-phase <package.json>`: the guide's mode 3, running one phase by hand
 * from its handoff package on any machine, with no worker and no Temporal connection.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { defaultExecutor, executePhase } from '../../activities/execute-phase.js';
import { writeFileAtomic } from '../../activities/handoff-files.js';
import { HandoffPackageSchema } from '../../handoff/schema.js';
import { PlanError, zodProblems } from '../../plan/problems.js';
import { action } from '../errors.js';
import { loadHandlers } from './worker.js';

interface ExecuteOptions {
  out?: string;
  handlers?: string;
}

export function registerExecutePhase(program: Command): void {
  program
    .command('execute-phase')
    .description('run one phase from its handoff package, here, and print its result')
    .argument('<package>', 'handoff package (handoffs/phase_<id>.json)')
    .option('--out <file>', 'write the result JSON here instead of stdout')
    .option('--handlers <module>', 'JS module exporting handler functions, for handler phases')
    .action(
      action(async (file: string, opts: ExecuteOptions) => {
        let json: unknown;
        try {
          json = JSON.parse(await readFile(file, 'utf8'));
        } catch (err) {
          throw new PlanError('the handoff package', [`${file} cannot be read as JSON (${(err as Error).message})`]);
        }
        const parsed = HandoffPackageSchema.safeParse(json);
        if (!parsed.success) throw new PlanError(`the handoff package ${file}`, zodProblems(parsed.error));
        const controller = new AbortController();
        process.once('SIGINT', () => controller.abort());
        const result = await executePhase(parsed.data, {
          attempt: Number(process.env.BATON_ATTEMPT ?? 1),
          writeHandoffFiles: false,
          handlers: await loadHandlers(opts.handlers),
          executedBy: defaultExecutor(),
          signal: controller.signal,
          heartbeat: () => undefined,
        });
        const text = `${JSON.stringify(result, null, 2)}\n`;
        if (opts.out) await writeFileAtomic(opts.out, text);
        else process.stdout.write(text);
      }),
    );
}
