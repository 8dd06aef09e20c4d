/**
 * A plan as small as it can travel: fields equal to their schema defaults left out. The
 * workflow parses its input again, which puts them back, so nothing changes but the size:
 * a 10,000-phase plan has to fit in Temporal's 2 MiB input, with the run's state beside it
 * when the run continues as new.
 */
import { PhaseSchema, PlanSchema, type Phase, type Plan, type PlanInput } from './schema.js';

const PHASE_DEFAULTS = PhaseSchema.parse({ id: 0, name: 'defaults' });
const PLAN_DEFAULTS = PlanSchema.parse({ name: 'defaults', phases: [] });

export function compactPlan(plan: Plan): PlanInput {
  const compact: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(plan)) {
    if (field === 'phases') continue;
    if (!sameJson(value, PLAN_DEFAULTS[field as keyof Plan])) compact[field] = value;
  }
  compact.phases = plan.phases.map(compactPhase);
  return compact as PlanInput;
}

function compactPhase(phase: Phase): Record<string, unknown> {
  const compact: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(phase)) {
    if (field === 'id' || field === 'name' || !sameJson(value, PHASE_DEFAULTS[field as keyof Phase])) compact[field] = value;
  }
  return compact;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
