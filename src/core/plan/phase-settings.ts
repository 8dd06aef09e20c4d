/**
 * The effective timeout, retries and task queue of a phase: the phase's own value,
 * else its resource class's default, else the config's default.
 */
import { taskQueueFor, type OrchestratorConfig, type Phase } from './schema.js';

export interface PhaseSettings {
  taskQueue: string;
  timeoutSeconds: number;
  retries: number;
}

export function phaseSettings(phase: Phase, config: OrchestratorConfig): PhaseSettings {
  const cls = config.resource_classes[phase.resource_class];
  return {
    taskQueue: taskQueueFor(phase.resource_class),
    timeoutSeconds: phase.timeout_s ?? cls?.timeout_s ?? config.default_timeout_s,
    retries: phase.retries ?? cls?.retries ?? config.default_retries,
  };
}
