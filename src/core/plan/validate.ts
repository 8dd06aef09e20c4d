/**
 * One entry point that turns untrusted JSON into a checked plan and config.
 */
import { describeFindings, findSecrets } from '../handoff/secrets.js';
import { graphProblems } from './graph.js';
import { PlanError, zodProblems } from './problems.js';
import {
  OrchestratorConfigSchema,
  PlanSchema,
  type OrchestratorConfig,
  type Plan,
} from './schema.js';

export interface CheckedRun {
  plan: Plan;
  config: OrchestratorConfig;
}

/** Parses and checks a plan and config; throws PlanError listing every problem found. */
export function checkRun(planJson: unknown, configJson: unknown = {}): CheckedRun {
  const config = checkConfig(configJson);
  const plan = PlanSchema.safeParse(planJson);
  if (!plan.success) throw new PlanError('the plan', zodProblems(plan.error));
  const problems = [...graphProblems(plan.data, config), ...planSecretProblems(plan.data)];
  if (problems.length > 0) throw new PlanError(`the plan "${plan.data.name}"`, problems);
  return { plan: plan.data, config };
}

export function checkConfig(configJson: unknown): OrchestratorConfig {
  const config = OrchestratorConfigSchema.safeParse(configJson ?? {});
  if (!config.success) throw new PlanError('the orchestrator config', zodProblems(config.error));
  return config.data;
}

/**
 * Credentials in a plan would travel into every package, history and file: refuse them up front.
 * Only the parts that reach packages are scanned; paths read as in the plan file.
 */
function planSecretProblems(plan: Plan): string[] {
  const findings = [
    ...findSecrets(plan.global_context, { root: 'global_context', safeKeys: plan.safe_keys }),
    ...findSecrets(plan.shared_artifacts, { root: 'shared_artifacts', safeKeys: plan.safe_keys }),
    ...plan.phases.flatMap((phase, i) => [
      ...findSecrets(phase.config, { root: `phases[${i}].config`, safeKeys: plan.safe_keys }),
      ...findSecrets(phase.command ?? [], { root: `phases[${i}].command`, safeKeys: plan.safe_keys }),
    ]),
  ];
  return describeFindings(findings);
}
