/**
 * The bounds a signal, an update or an agent's result is held to besides its schema (see LIMITS):
 * its size and nesting, checked before it is parsed, and the ranges of its fields, checked after.
 * What breaks one is refused with the limit, so nothing oversized or out of range enters a run's
 * state. Pure: the workflow's handlers and validators use these.
 */
import { bytesText, countText, LIMITS, measureJson, pathText } from './limits.js';

/** Why a payload is too large or too deep to take, or undefined. */
export function payloadProblem(raw: unknown, maxBytes: number, what = 'the request'): string | undefined {
  const measured = measureJson(raw, { stopAtBytes: maxBytes });
  if (measured.tooDeepAt) return `${what} is nested more than ${LIMITS.depth} levels deep (at ${pathText('', measured.tooDeepAt)}); at most ${LIMITS.depth}`;
  if (measured.bytes > maxBytes) return `${what} is ${measured.stopped ? 'over ' : ''}${bytesText(measured.bytes)} as JSON; at most ${bytesText(maxBytes)}`;
  return undefined;
}

const DAY_S = 24 * 3600;

/** Why a parsed request's fields are out of range, or undefined (its schema has already checked their types). */
export function requestRangeProblem(name: string, value: Record<string, unknown>): string | undefined {
  if (name === 'retryPhase') {
    const { timeout_s: timeout, retries, resource_class: cls } = value;
    const { min, max } = LIMITS.timeoutS;
    if (typeof timeout === 'number' && (timeout < min || timeout > max)) {
      return `"timeout_s" must be from ${min} to ${countText(max)} seconds (${max / DAY_S} days), got ${timeout}`;
    }
    if (typeof retries === 'number' && retries > LIMITS.retries) return `"retries" must be at most ${LIMITS.retries}, got ${retries}`;
    if (typeof cls === 'string' && cls.length > LIMITS.nameChars) return `"resource_class" is ${countText(cls.length)} characters long; at most ${LIMITS.nameChars}`;
  }
  if (name === 'markPhaseDone') return markDoneRangeProblem(value);
  if (name === 'agentProgress' && typeof value.message === 'string' && value.message.length > LIMITS.progressChars) {
    return `"message" is ${countText(value.message.length)} characters long; at most ${countText(LIMITS.progressChars)}: say what the agent does now in a line`;
  }
  return undefined;
}

/** Why an agent's result (the completePhase update) is too large or too deep to take, or undefined. */
export function resultSizeProblem(raw: unknown): string | undefined {
  const problem = payloadProblem(raw, LIMITS.resultBytes, 'the result');
  if (problem) return `${problem}: store large values by reference (baton execute-phase does this) and keep an error to its start`;
  const error = raw !== null && typeof raw === 'object' ? (raw as { error?: unknown }).error : undefined;
  if (typeof error === 'string' && error.length > LIMITS.resultErrorChars) {
    return `the result's "error" is ${countText(error.length)} characters long; at most ${countText(LIMITS.resultErrorChars)}: keep its start (baton execute-phase and buildAgentResult do; the run keeps the first ${countText(LIMITS.errorChars)} anyway)`;
  }
  const output = raw !== null && typeof raw === 'object' ? (raw as { output?: { artifacts?: unknown } }).output : undefined;
  const artifacts = output?.artifacts;
  if (artifacts !== null && typeof artifacts === 'object' && Object.keys(artifacts).length > LIMITS.artifacts) {
    return `the result names ${countText(Object.keys(artifacts).length)} artifacts; at most ${countText(LIMITS.artifacts)}: put many files in one directory or archive and name that`;
  }
  return undefined;
}

/** An operator's output for markPhaseDone: the same bounds as an agent's result, and a short reason. */
function markDoneRangeProblem(value: Record<string, unknown>): string | undefined {
  const output = value.output as { artifacts?: Record<string, string> } | undefined;
  const artifacts = Object.entries(output?.artifacts ?? {});
  if (artifacts.length > LIMITS.artifacts) {
    return `"output.artifacts" names ${countText(artifacts.length)} artifacts; at most ${countText(LIMITS.artifacts)}: put many files in one directory or archive and name that`;
  }
  const longPath = artifacts.find(([, p]) => p.length > LIMITS.pathChars);
  if (longPath) return `"output.artifacts.${longPath[0].slice(0, 100)}" is a path of ${countText(longPath[1].length)} characters; at most ${countText(LIMITS.pathChars)}`;
  if (typeof value.reason === 'string' && value.reason.length > LIMITS.progressChars) {
    return `"reason" is ${countText(value.reason.length)} characters long; at most ${countText(LIMITS.progressChars)}: say why in a line`;
  }
  if (typeof value.by === 'string' && value.by.length > LIMITS.nameChars) return `"by" is ${countText(value.by.length)} characters long; at most ${LIMITS.nameChars}`;
  return undefined;
}
