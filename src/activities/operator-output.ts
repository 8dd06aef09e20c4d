/**
 * The orchestrator's check of an output an operator gives a phase (markPhaseDone): the same checks
 * an agent's result gets, by the same code (its output_schema on the schema threads, its files
 * confined to the workdir and hashed), then stored as a phase's output is (large context values
 * go to the context store), so the run records it like any other.
 */
import { failure } from '../core/api/failures.js';
import type { PhaseContext } from '../core/handoff/schema.js';
import { describeFindings, findSecrets } from '../core/handoff/secrets.js';
import { artifactRefs } from '../runner/artifacts.js';
import { offloadContext } from '../runner/context-store.js';
import { resolveWorkdir } from '../runner/workdir.js';
import { configuredStore, pushContext } from '../runner/store/sync.js';
import { schemaProblems } from './agent-handoff.js';
import type { OperatorOutput, ResultCheck } from './types.js';

export async function checkOperatorOutput(output: OperatorOutput, check: Omit<ResultCheck, 'accept_unsigned'>): Promise<PhaseContext> {
  const workdir = resolveWorkdir(check.workdir, check.base_dir);
  const refuse = (problems: string[]): never => {
    throw failure('InvalidRequest', `the output for phase ${String(output.phase)} was refused: ${problems.join('; ')}. Nothing was recorded; fix the output and send it again.`, problems);
  };
  // The workflow scanned the request; this is a second look, as cheap as it is, before anything is stored.
  const secrets = describeFindings(findSecrets(output.context, { root: 'output.context', safeKeys: check.safe_keys ?? [] }), 'give a reference to the secret instead');
  if (secrets.length > 0) refuse(secrets);
  // The phase's contract first: an output that does not match it is refused before its files are read.
  if (check.output_schema) {
    const problems = await schemaProblems(workdir, output.phase, output.context, check.output_schema);
    if (problems.length > 0) refuse(problems);
  }
  let artifacts: PhaseContext['artifacts'];
  try {
    artifacts = await artifactRefs(workdir, output.artifacts);
  } catch (err) {
    return refuse([`output.artifacts: ${(err as Error).message} (${workdir})`]);
  }
  const recorded = { context: await offloadContext(workdir, output.context), artifacts };
  // With a store, the operator's files (on this machine) go there for the dependants, wherever they run.
  const store = configuredStore(check.store);
  if (store) await pushContext(store, workdir, recorded, `phase ${String(output.phase)}'s`);
  return recorded;
}
