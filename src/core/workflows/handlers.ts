/**
 * The run's query, signals and updates. Their input is raw JSON from anyone (the Web UI's
 * dialogs, `temporal workflow signal|update`, scripts, other SDKs), so each message is checked
 * against its schema first: a bad signal becomes a notice in the status (signals cannot answer),
 * a bad update is refused by its validator before anything is recorded. Then the run does it.
 */
import { setHandler } from '@temporalio/workflow';
import {
  agentProgressSignal,
  completePhaseUpdate,
  executePhaseUpdate,
  handPhaseUpdate,
  markPhaseDoneUpdate,
  pauseSignal,
  pauseUpdate,
  phasesQuery,
  phaseInterruptedSignal,
  resumeSignal,
  resumeUpdate,
  retryPhaseSignal,
  retryPhaseUpdate,
  skipPhaseSignal,
  skipPhaseUpdate,
  statusQuery,
} from '../api/definitions.js';
import { failure } from '../api/failures.js';
import { resultSizeProblem } from '../api/message-bounds.js';
import { checkAgainst, parseMessage } from '../api/messages.js';
import { PhasesRequestSchema } from '../api/status.js';
import { AgentResultSchema } from '../handoff/result.js';
import { agentResultSecrets } from './agent-results.js';
import { handProblem, markDoneProblem, noInputProblem, retryProblem, skipProblem } from './operation-checks.js';
import { refuse, refuseUnless, takeRequest } from './update-validation.js';
import { handOperation, markDoneOperation, pauseOperation, resumeOperation, retryOperation, skipOperation } from './operations.js';
import type { Run } from './run.js';

export function registerHandlers(run: Run): void {
  // Signals replay: a run started before Baton's bounds takes again what it took then (BOUNDS_PATCH).
  const signalBounds = { bounds: run.behaviour.boundsInputs };
  setHandler(statusQuery, () => run.status(), { description: 'The run and every phase: state, attempts, task queue, times, output, provenance.' });
  setHandler(phasesQuery, (raw) => {
    const request = checkAgainst(PhasesRequestSchema, raw ?? {});
    if (!request.ok) throw new Error(`phases: ${request.error}; expected {"state"?: "<state>" or ["<state>", …], "after"?: <id>, "offset"?: n, "limit"?: 1-1000}`);
    return run.phasesPage(request.value);
  }, {
    description:
      'Phases page by page, each whole, in plan order: {"state": "failed", "limit": 100}, then {"state": "failed", "after": <next>} until next is null. What status leaves out of a large plan.',
  });
  setHandler(pauseSignal, () => run.pause(), { description: 'Start no new phase until resume; phases in flight finish.' });
  setHandler(resumeSignal, () => run.resume(), { description: 'Start phases again after pause.' });
  setHandler(retryPhaseSignal, (raw) => {
    const request = parseMessage('retryPhase', raw, signalBounds);
    if (request.ok) run.retry(request.value);
    else run.notice(request.error);
  }, {
    description:
      'Run a failed or completed phase again: {"phase": <id>, "downstream": true|false, "refresh": true|false}, optionally with overrides for it: "resource_class", "timeout_s", "retries", "config".',
  });
  setHandler(skipPhaseSignal, (raw) => {
    const request = parseMessage('skipPhase', raw, signalBounds);
    if (request.ok) run.skip(request.value);
    else run.notice(request.error);
  }, { description: 'Mark a pending or failed phase skipped so its dependants can run: {"phase": <id>}.' });
  setHandler(agentProgressSignal, (raw) => {
    const report = parseMessage('agentProgress', raw, signalBounds);
    if (report.ok) run.progress(report.value);
    else run.notice(report.error);
  }, { description: 'An agent reports progress on a phase it runs: {"phase": <id>, "message": "...", "percent": 40}.' });

  setHandler(phaseInterruptedSignal, (raw) => {
    const report = parseMessage('phaseInterrupted', raw, signalBounds);
    if (report.ok) run.interrupted(report.value);
    else run.notice(report.error);
  }, { description: "Sent by Baton's phase workers: an attempt of a phase was interrupted (not failed), and the next one starts." });

  setHandler(completePhaseUpdate, (result) => run.acceptAgentResult(result), {
    description: "An external agent's result for a phase awaiting one (what `baton execute-phase` and `baton submit` send).",
    validator: (raw) => {
      // Its size and nesting first: nothing is parsed, or quoted, that is too large or too deep to take.
      const tooBig = resultSizeProblem(raw);
      if (tooBig) throw failure('ResultRefused', tooBig);
      const parsed = checkAgainst(AgentResultSchema, raw);
      if (!parsed.ok) throw failure('ResultRefused', `the result is not valid: ${parsed.error}`);
      const problem = run.agentResultProblem(parsed.value) ?? agentResultSecrets(parsed.value, run.book.plan.safe_keys);
      if (problem) throw failure('ResultRefused', problem);
    },
  });

  setHandler(executePhaseUpdate, (request) => run.executePhase(request), {
    description: 'Request one phase, as the guide\'s execute_phase: {"phase": <id>, "use_separate_agent": true|false}. Returns when it has run, or when its package is ready for an agent.',
    validator: (raw) => refuseUnless('executePhase', raw, (r) => run.requestProblem(r)),
  });

  registerOperationUpdates(run);
}

/**
 * The operations as updates (see definitions.ts): each validator refuses a bad request with
 * InvalidRequest, saying what is wrong and what to do, before anything is recorded; each handler
 * answers what it did (see update-validation.ts).
 */
function registerOperationUpdates(run: Run): void {
  setHandler(pauseUpdate, () => pauseOperation(run), {
    description: 'Start no new phase until resume; phases in flight finish. No input. Answers what it did.',
    validator: (raw?: unknown) => refuse(noInputProblem('pause', raw)),
  });
  setHandler(resumeUpdate, () => resumeOperation(run), {
    description: 'Start phases again after pause. No input. Answers what it did.',
    validator: (raw?: unknown) => refuse(noInputProblem('resume', raw)),
  });
  setHandler(retryPhaseUpdate, (raw) => retryOperation(run, takeRequest('retryPhase', raw)), {
    description:
      'Run a failed, completed or skipped phase again: {"phase": <id>, "downstream": true|false, "refresh": true|false}, optionally with "resource_class", "timeout_s", "retries", "config". A bad request is refused with the reason.',
    validator: (raw) => refuseUnless('retryPhase', raw, (r) => retryProblem(run.book, r)),
  });
  setHandler(skipPhaseUpdate, (raw) => skipOperation(run, takeRequest('skipPhase', raw)), {
    description: 'Mark a pending, ready or failed phase skipped so its dependants can run: {"phase": <id>}. A bad request is refused with the reason.',
    validator: (raw) => refuseUnless('skipPhase', raw, (r) => skipProblem(run.book, r)),
  });
  setHandler(markPhaseDoneUpdate, (raw) => markDoneOperation(run, takeRequest('markPhaseDone', raw)), {
    description:
      'Complete a failed phase, or one awaiting an agent, with your output: {"phase": <id>, "output": {"context": {...}, "artifacts": {"name": "relative/path"}}, "reason"?: "..."}, checked against its output_schema; its dependants then run.',
    validator: (raw) => refuseUnless('markPhaseDone', raw, (r) => markDoneProblem(run.book, r)),
  });
  setHandler(handPhaseUpdate, (raw) => handOperation(run, takeRequest('handPhase', raw)), {
    description: 'Hand a pending or failed phase to an external agent, or a pending, failed or agent-awaiting one to a worker: {"phase": <id>, "to": "agent" | "worker"}.',
    validator: (raw) => refuseUnless('handPhase', raw, (r) => handProblem(run.book, r)),
  });
}
