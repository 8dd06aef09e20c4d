/**
 * The operations as updates: what each does once its validator (operation-checks.ts) has taken
 * the request, and the sentence it answers with. pause, resume, retryPhase and skipPhase do what
 * their signals do; markPhaseDone completes a phase with an operator's output, checked on the
 * orchestrator worker as an agent's is (artifacts, the context store, the phase's output_schema);
 * handPhase moves a phase between external agents and workers.
 */
import { failure } from '../api/failures.js';
import { cutText, LIMITS } from '../api/limits.js';
import type { HandPhaseRequest, MarkPhaseDoneRequest, OperationResponse, RetryPhaseRequest, SkipPhaseRequest } from '../api/messages.js';
import type { PhaseContext } from '../handoff/schema.js';
import { redactSecrets } from '../handoff/secrets.js';
import { downstreamOf } from '../plan/graph.js';
import { phaseKey } from '../plan/schema.js';
import { cancellation, orchestratorActivities } from './activities.js';
import { markDoneProblem } from './operation-checks.js';
import { failureMessage } from './phase-lifecycle.js';
import type { Run } from './run.js';

function answer(run: Run, message: string, key?: string): OperationResponse {
  const { book } = run;
  const phase = key === undefined ? undefined : book.record(key);
  return {
    message,
    run_state: book.runState(),
    ...(phase ? { phase: { id: phase.id, state: phase.state, generation: phase.generation, attempts: phase.attempts } } : {}),
  };
}

function listed(keys: readonly string[], max = 10): string {
  return keys.length <= max ? keys.join(', ') : `${keys.slice(0, max).join(', ')} and ${keys.length - max} more`;
}

const whilePaused = (run: Run): string => (run.book.paused ? '; the run is paused: it starts once the run is resumed' : '');

export function pauseOperation(run: Run): OperationResponse {
  const { book } = run;
  if (book.paused) return answer(run, 'the run was already paused; nothing changed (resume starts phases again)');
  run.pause();
  const inFlight = [...book.keysIn('running'), ...book.keysIn('awaiting_agent')];
  const finishing = inFlight.length === 0 ? '' : `; ${inFlight.length === 1 ? 'phase' : 'phases'} ${listed(inFlight)} in flight finish`;
  return answer(run, `paused: no new phase starts until resume${finishing}`);
}

export function resumeOperation(run: Run): OperationResponse {
  if (!run.book.paused) return answer(run, 'the run was not paused; nothing changed');
  run.resume();
  return answer(run, 'resumed: phases whose dependencies are done start again');
}

export function retryOperation(run: Run, request: RetryPhaseRequest): OperationResponse {
  const { book } = run;
  const key = phaseKey(request.phase);
  const next = book.record(key).generation + 1;
  run.retry(request);
  const downstream = request.downstream ? downstreamOf(book.plan.phases, key) : [];
  const alsoDownstream = downstream.length === 0 ? '' : `, and ${downstream.length === 1 ? 'phase' : 'phases'} ${listed(downstream)} after it`;
  const { phase: _phase, downstream: _d, refresh, ...overrides } = request;
  const changed = Object.keys(overrides).length === 0 ? '' : ` with ${Object.keys(overrides).join(', ')} changed`;
  const fresh = refresh ? ", on its dependencies' files as they are now" : '';
  return answer(run, `phase ${key} (${book.phase(key).definition.name}) runs again as generation ${next}${changed}${fresh}${alsoDownstream}${whilePaused(run)}`, key);
}

export function skipOperation(run: Run, request: SkipPhaseRequest): OperationResponse {
  const { book } = run;
  const key = phaseKey(request.phase);
  const rollback = book.record(key).state === 'failed' && book.phase(key).definition.compensate ? '; its rollback runs' : '';
  run.skip(request);
  const dependants = book.dependantsOf(key);
  const freed = dependants.length === 0 ? '' : `; ${dependants.length === 1 ? 'phase' : 'phases'} ${listed(dependants)} no longer wait for it`;
  return answer(run, `phase ${key} (${book.phase(key).definition.name}) is skipped${rollback}${freed}`, key);
}

/**
 * Completes a failed phase, or one awaiting an agent, with the output an operator gives. The
 * orchestrator worker checks it first (its artifacts are files in the workdir, large context
 * values go to the context store, the context matches the phase's output_schema); nothing is
 * recorded of a refused one.
 */
export async function markDoneOperation(run: Run, request: MarkPhaseDoneRequest): Promise<OperationResponse> {
  const { book } = run;
  const key = phaseKey(request.phase);
  let output: PhaseContext;
  try {
    output = await orchestratorActivities.checkOperatorOutput.executeWithOptions(
      { ...cancellation(run.behaviour), startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 }, summary: `Check the output given for phase ${key}` },
      [
        { phase: request.phase, context: request.output.context, artifacts: request.output.artifacts },
        { workdir: run.where.workdir, base_dir: run.where.baseDir, output_schema: book.phasesByKey.get(key)?.output_schema ?? null, safe_keys: book.plan.safe_keys, ...(run.where.store ? { store: run.where.store } : {}) },
      ],
    );
  } catch (err) {
    throw failure('InvalidRequest', `markPhaseDone: ${failureMessage(err)}`);
  }
  // The phase may have moved while the output was checked (an agent reported, a timeout).
  const moved = markDoneProblem(book, request);
  if (moved) throw failure('InvalidRequest', moved);
  const entry = book.phase(key);
  const rec = entry.record;
  const was = rec.state === 'awaiting_agent' ? 'awaiting an agent' : 'failed';
  const by = request.by ?? 'an operator';
  const now = new Date().toISOString();
  delete rec.awaiting;
  delete rec.error;
  delete rec.agent_fallback;
  entry.complete({ output, attempts: 0, executedBy: `operator ${by}`, startedAt: now, finishedAt: now, contentHash: null, handoffPath: rec.handoff_path ?? null, handoffFallback: null });
  rec.provenance = {
    via: 'operator',
    executed_by: by,
    package_hash: null,
    result_hash: null,
    mode: 'online',
    started_at: now,
    finished_at: now,
    ...(request.reason === undefined ? {} : { reason: cutText(redactSecrets(request.reason), LIMITS.progressChars) }),
  };
  run.changed();
  const dependants = book.dependantsOf(key);
  const next = dependants.length === 0 ? '' : `; ${dependants.length === 1 ? 'phase' : 'phases'} ${listed(dependants)} may start now${whilePaused(run)}`;
  const keys = Object.keys(output.context).length;
  const files = Object.keys(output.artifacts).length;
  return answer(run, `phase ${key} (${entry.definition.name}), ${was}, is completed with the output ${by} gave (${keys} context ${keys === 1 ? 'key' : 'keys'}, ${files} ${files === 1 ? 'artifact' : 'artifacts'})${next}`, key);
}

export function handOperation(run: Run, request: HandPhaseRequest): OperationResponse {
  const { book } = run;
  const key = phaseKey(request.phase);
  const entry = book.phase(key);
  const rec = entry.record;
  const name = `phase ${key} (${entry.definition.name})`;
  const failed = rec.state === 'failed';
  let message: string;
  if (request.to === 'agent') {
    rec.separate_agent = true;
    if (failed) book.retry(key, false);
    message = `${name} goes to an external agent${failed ? ` as generation ${rec.generation + 1}` : ' when it starts'}: the run writes its package and waits for completePhase (baton status shows the package)${whilePaused(run)}`;
  } else {
    const awaiting = rec.state === 'awaiting_agent';
    rec.separate_agent = false;
    if (failed) book.retry(key, false);
    if (awaiting) entry.handBack = true;
    message = awaiting
      ? `${name} no longer waits for an agent: a worker on ${rec.task_queue} runs it now, as generation ${rec.generation + 1} (a result for generation ${rec.generation} is refused)`
      : `${name} goes to a worker on ${rec.task_queue}${failed ? ` as generation ${rec.generation + 1}` : ' when it starts'}${whilePaused(run)}`;
  }
  run.changed();
  return answer(run, message, key);
}
