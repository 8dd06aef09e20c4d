/**
 * What every update's validator and handler do with a request: its schema and Baton's bounds
 * first (parseMessage), then whether the run can do it as it stands; a problem refuses the update
 * with InvalidRequest, which carries no stack trace (see failures.ts), so the Web UI's dialog and
 * the CLI show the words alone. A validator does not run on replay, so these need no patch.
 */
import { failure } from '../api/failures.js';
import { parseMessage, type MessageName, type MessageValue } from '../api/messages.js';

/** Refuses the update when there is a problem. */
export function refuse(problem: string | undefined): void {
  if (problem) throw failure('InvalidRequest', problem);
}

/** An update's validator: refuses `raw` unless it is a valid `name` request that `check` finds nothing wrong with. */
export function refuseUnless<N extends MessageName>(name: N, raw: unknown, check: (request: MessageValue<N>) => string | undefined): void {
  const request = parseMessage(name, raw);
  refuse(request.ok ? check(request.value) : request.error);
}

/** The request as its schema takes it (defaults filled in), for a handler whose validator has refused anything else. */
export function takeRequest<N extends MessageName>(name: N, raw: unknown): MessageValue<N> {
  const request = parseMessage(name, raw);
  if (!request.ok) throw failure('InvalidRequest', request.error);
  return request.value;
}
