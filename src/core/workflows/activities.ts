/**
 * The activities the workflow calls, by type only (the implementations live on workers).
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { OrchestratorActivities, PhaseActivities } from '../../activities/types.js';

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
