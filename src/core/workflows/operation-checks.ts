/**
 * Whether an operator's request (the updates pause, resume, retryPhase, skipPhase, markPhaseDone,
 * handPhase) can be honoured as the run stands, and if not, why and what to do instead: the
 * updates' validators throw these words, so the Web UI's dialog, `temporal workflow update
 * execute` and `baton` show them at once. Pure, so they are unit-tested directly.
 */
import { excerpt } from '../api/limits.js';
import type { HandPhaseRequest, MarkPhaseDoneRequest, RetryPhaseRequest, SkipPhaseRequest } from '../api/messages.js';
import { isContextRef } from '../handoff/schema.js';
import { carriesSecrets, describeFindings, findSecrets } from '../handoff/secrets.js';
import { phaseKey } from '../plan/schema.js';
import type { RunBook } from './run-book.js';

/** Phase ids listed in a refusal: a plan of 10,000 phases names the first ones and says how many. */
const LISTED_PHASES = 20;

export function phaseList(book: RunBook): string {
  const keys = book.keys();
  if (keys.length <= LISTED_PHASES) return keys.join(', ');
  return `${keys.slice(0, LISTED_PHASES).join(', ')}, … (${keys.length} in all; \`baton status <run> --all\` lists them)`;
}

function noPhase(name: string, book: RunBook, key: string): string | undefined {
  return book.has(key) ? undefined : `${name}: no phase ${key}; phases are ${phaseList(book)}`;
}

/** A phase's dependency that failed (or is held), which a pending phase waits for. */
function failedUpstream(book: RunBook, key: string): string | undefined {
  return book.phase(key).definition.depends_on.map(phaseKey).find((dep) => book.record(dep).state === 'failed');
}

const json = (id: unknown): string => JSON.stringify(id);

/** What to do with a phase in a state the operation does not take, in the operator's words. */
function stateAdvice(book: RunBook, key: string): string {
  const rec = book.record(key);
  const id = json(rec.id);
  switch (rec.state) {
    case 'running':
      return `it is running (generation ${rec.generation}); wait for it to finish or fail, or abort the run`;
    case 'awaiting_agent':
      return `it is awaiting an agent; have the agent report (completePhase), mark it done (markPhaseDone {"phase": ${id}, "output": {...}}) or hand it to a worker (handPhase {"phase": ${id}, "to": "worker"})`;
    case 'pending':
    case 'ready': {
      const upstream = failedUpstream(book, key);
      return upstream === undefined
        ? 'it has not run yet; it starts once its dependencies are done'
        : `it has not run yet: it waits for phase ${upstream}, which failed; retry or skip that one (retryPhase {"phase": ${json(book.record(upstream).id)}})`;
    }
    case 'completed':
      return `it has completed; to run it again, send retryPhase {"phase": ${id}}`;
    case 'skipped':
      return `it was skipped; to run it after all, send retryPhase {"phase": ${id}}`;
    default:
      return `it is ${rec.state}`;
  }
}

export function retryProblem(book: RunBook, request: RetryPhaseRequest): string | undefined {
  const key = phaseKey(request.phase);
  const missing = noPhase('retryPhase', book, key);
  if (missing) return missing;
  const state = book.record(key).state;
  if (state !== 'failed' && state !== 'completed' && state !== 'skipped') {
    return `retryPhase: phase ${key} is ${state}; only a failed, completed or skipped phase can be retried: ${stateAdvice(book, key)}`;
  }
  if (request.resource_class !== undefined && !(request.resource_class in book.config.resource_classes)) {
    return `retryPhase: resource class "${request.resource_class}" is not declared; use one of: ${Object.keys(book.config.resource_classes).join(', ')}`;
  }
  const { phase: _phase, ...overrides } = request;
  const findings = findSecrets(overrides, { safeKeys: book.plan.safe_keys });
  if (findings.length > 0) {
    const why = describeFindings(findings, "pass credentials to the phase through the worker's environment instead, or list the key in the plan's \"safe_keys\" if it is not a secret");
    return `retryPhase: its overrides carry credentials, which never enter the run's history: ${why.join('; ')}`;
  }
  return undefined;
}

export function skipProblem(book: RunBook, request: SkipPhaseRequest): string | undefined {
  const key = phaseKey(request.phase);
  const missing = noPhase('skipPhase', book, key);
  if (missing) return missing;
  const state = book.record(key).state;
  if (state === 'pending' || state === 'ready' || state === 'failed') return undefined;
  return `skipPhase: phase ${key} is ${state}; only a pending, ready or failed phase can be skipped: ${stateAdvice(book, key)}`;
}

export function markDoneProblem(book: RunBook, request: MarkPhaseDoneRequest): string | undefined {
  const key = phaseKey(request.phase);
  const missing = noPhase('markPhaseDone', book, key);
  if (missing) return missing;
  const state = book.record(key).state;
  if (state !== 'failed' && state !== 'awaiting_agent') {
    const instead = state === 'pending' || state === 'ready' ? `; skipPhase {"phase": ${json(book.record(key).id)}} moves past a phase that has not run` : '';
    return `markPhaseDone: phase ${key} is ${state}; only a failed phase or one awaiting an agent can be marked done: ${stateAdvice(book, key)}${instead}`;
  }
  for (const [name, relative] of Object.entries(request.output.artifacts)) {
    if (relative.startsWith('/') || /^[A-Za-z]:[\\/]/.test(relative) || relative.split(/[\\/]/).includes('..')) {
      return `markPhaseDone: output.artifacts.${name}: ${JSON.stringify(relative.slice(0, 200))} is outside the run's workdir; give a path relative to the workdir (${book.plan.workdir ?? 'the plan\'s workdir'}), without ".."`;
    }
  }
  // References into the context store are Baton's to make (from the values given), never an operator's.
  const ref = Object.entries(request.output.context).find(([k, v]) => k === '$baton_keys' || isContextRef(v));
  if (ref) return `markPhaseDone: output.context.${ref[0]}: give the value itself, not a reference into the context store; Baton stores values over 1 KiB by reference itself`;
  const findings = [
    ...findSecrets(request.output.context, { root: 'output.context', safeKeys: book.plan.safe_keys }),
    ...findSecrets(request.output.artifacts, { root: 'output.artifacts', safeKeys: book.plan.safe_keys }),
  ];
  const lines = describeFindings(findings, "give a reference to the secret instead (a vault path, an environment variable's name), or list the key in the plan's \"safe_keys\" if it is not a secret");
  for (const field of ['by', 'reason'] as const) {
    const text = request[field];
    if (text !== undefined && carriesSecrets(text)) lines.push(`${field}: it quotes what looks like a credential; leave it out`);
  }
  if (lines.length > 0) return `markPhaseDone: the output carries credentials, which never enter the run's history: ${lines.join('; ')}`;
  return undefined;
}

export function handProblem(book: RunBook, request: HandPhaseRequest): string | undefined {
  const key = phaseKey(request.phase);
  const missing = noPhase('handPhase', book, key);
  if (missing) return missing;
  const rec = book.record(key);
  const id = json(rec.id);
  const to = request.to === 'agent' ? 'an agent' : 'a worker';
  switch (rec.state) {
    case 'pending':
    case 'ready':
    case 'failed':
      return undefined;
    case 'awaiting_agent':
      return request.to === 'worker' ? undefined : `handPhase: phase ${key} is already awaiting an agent (its package: ${rec.awaiting?.handoff_path ?? 'see baton status'}); nothing to hand`;
    case 'running':
      return `handPhase: phase ${key} is running on a worker (generation ${rec.generation}); only a phase that waits (pending, or awaiting an agent) or failed can be handed to ${to}: wait for it to finish or fail, or abort the run`;
    default:
      return `handPhase: phase ${key} is ${rec.state}; only a phase that waits (pending, or awaiting an agent) or failed can be handed to ${to}: ${stateAdvice(book, key)}${rec.state === 'completed' || rec.state === 'skipped' ? `, then handPhase {"phase": ${id}, "to": "${request.to}"} before it starts` : ''}`;
  }
}

/** pause and resume take no input; the Web UI's dialog sends nothing, null or {} when left empty. */
export function noInputProblem(name: 'pause' | 'resume', raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'object' && !Array.isArray(raw) && Object.keys(raw).length === 0) return undefined;
  return `${name}: takes no input (send nothing, or {}), got ${excerpt(raw)}`;
}
