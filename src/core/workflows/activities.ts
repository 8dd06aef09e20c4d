/**
 * The activities the workflow calls, by type only (the implementations live on workers).
 */
import { ActivityCancellationType, proxyActivities, proxyLocalActivities, type ActivityOptions } from '@temporalio/workflow';
import type { OrchestratorActivities, PhaseActivities } from '../../activities/types.js';
import type { RunBehaviour } from './behaviour.js';

export const phaseActivities = proxyActivities<PhaseActivities>({
  // Overridden per phase (task queue, timeout, retries); these are only the fallbacks.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '30 seconds',
});

/** The orchestrator's own activities, on the workflow's task queue `baton`. */
export const orchestratorActivities = proxyActivities<OrchestratorActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5, initialInterval: '1 second' },
});

/** Quick lookups whose results need not be activities of their own in history (runs from before baton-large-plans-1). */
export const orchestratorLocalActivities = proxyLocalActivities<OrchestratorActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

/**
 * How an activity is cancelled when the run is aborted. Runs since the orderly-abort patch wait for
 * the worker to say the activity has stopped (a phase's command and its whole process group gone):
 * what comes next (a rollback, the run's end) never runs beside it, and no activity is left pending
 * on a closed run. Runs from before it stop waiting at once, as they did.
 */
export function cancellation(behaviour: Pick<RunBehaviour, 'waitsForCancellation'>): Pick<ActivityOptions, 'cancellationType'> {
  return behaviour.waitsForCancellation ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {};
}
