/**
 * A run's output_schemas, compiled before anything runs: a run started around `baton run` (from
 * the Temporal CLI, another SDK) gets the check `baton run` makes, and a schema that cannot be used
 * fails the run with InvalidPlan rather than refusing every result of its phase later. The
 * validator runs on the orchestrator worker (checkOutputSchemas, on worker threads with a time
 * limit), never in the workflow sandbox.
 */
import { failure } from '../api/failures.js';
import type { Plan } from '../plan/schema.js';
import { outputSchemaError, outputSchemasOf } from '../plan/validate.js';
import { cancellation, orchestratorActivities } from './activities.js';
import type { RunBehaviour } from './behaviour.js';

export async function checkOutputSchemas(plan: Plan, behaviour: RunBehaviour): Promise<void> {
  const schemas = outputSchemasOf(plan);
  if (Object.keys(schemas).length === 0) return;
  const problems = await orchestratorActivities.checkOutputSchemas.executeWithOptions(
    { ...cancellation(behaviour), startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 }, summary: "Check the plan's output schemas" },
    [schemas],
  );
  const refusal = outputSchemaError(plan, problems);
  // Nothing has run: failing now, with every problem listed, loses nothing.
  if (refusal) throw failure('InvalidPlan', refusal.message, refusal.problems);
}
