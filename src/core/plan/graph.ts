/**
 * Checks on the dependency graph, run before anything starts.
 *
 * Pure and deterministic: the workflow runs these same checks on its input, so a run
 * started from the plain Temporal CLI refuses a bad plan just as `baton run` does.
 */
import { idText, phaseRef } from './schema-problems.js';
import { phaseKey, type Phase, type PhaseId } from './schema.js';

/**
 * What the graph checks read of a phase. A checked Phase is one; so is what can be read of a phase
 * that fails its schema, so a plan with a bad field and a cycle hears of both at once.
 */
export interface PhaseOutline {
  readonly id: PhaseId;
  readonly name: string;
  readonly depends_on: readonly PhaseId[];
  /** Undefined when it cannot be read (then it is not checked against the config). */
  readonly resource_class: string | undefined;
  /** Only whether they are there is read. */
  readonly command?: unknown;
  readonly handler?: unknown;
}

/**
 * Duplicate ids, unknown dependencies, cycles, both or neither of command and handler, and
 * classes the config does not declare (`declaredClasses`; undefined when the config cannot be
 * read, and then classes are not checked).
 */
export function graphProblems(phases: readonly PhaseOutline[], declaredClasses: readonly string[] | undefined): string[] {
  const problems: string[] = [];
  if (phases.length === 0) {
    return ['the plan has no phases; add at least one under "phases"'];
  }

  const byKey = new Map<string, PhaseOutline>();
  for (const phase of phases) {
    const key = phaseKey(phase.id);
    const first = byKey.get(key);
    if (first) {
      problems.push(
        `phase id ${idText(first.id)} is used by two phases ("${first.name}" and "${phase.name}"); give each phase a unique id`,
      );
      continue;
    }
    byKey.set(key, phase);
  }

  for (const phase of phases) {
    const key = phaseKey(phase.id);
    const me = phase.name === key ? phaseRef(phase.id) : `${phaseRef(phase.id)} ("${phase.name}")`;
    const hasCommand = phase.command !== undefined;
    const hasHandler = phase.handler !== undefined;
    if (hasCommand && hasHandler) {
      problems.push(`${me} has both "command" and "handler"; give it exactly one`);
    } else if (!hasCommand && !hasHandler) {
      problems.push(`${me} has neither "command" nor "handler"; give it an argv "command" or the name of a registered "handler"`);
    }
    for (const dep of phase.depends_on) {
      const depKey = phaseKey(dep);
      if (depKey === key) problems.push(`${phaseRef(phase.id)} depends on itself; remove ${idText(dep)} from its depends_on`);
      else if (!byKey.has(depKey)) problems.push(`${phaseRef(phase.id)} depends on ${idText(dep)}, which the plan does not define`);
    }
    if (declaredClasses && phase.resource_class !== undefined && !declaredClasses.includes(phase.resource_class)) {
      problems.push(
        `${phaseRef(phase.id)} uses resource class "${phase.resource_class}", which the config does not declare; ` +
          `declare it under "resource_classes" or use one of: ${declaredClasses.join(', ')}`,
      );
    }
  }

  const cycle = findCycle(phases);
  if (cycle) {
    const shown = cycle.map((key) => idText(byKey.get(key)?.id ?? key));
    problems.push(`the plan has a dependency cycle: ${shown.join(' -> ')}; remove one of these dependencies`);
  }
  return problems;
}

/**
 * The first cycle found, as phase keys with the start repeated at the end (`3 -> 5 -> 3`),
 * or undefined. Self-dependencies are reported separately, so they are not cycles here.
 */
export function findCycle(phases: ReadonlyArray<Pick<PhaseOutline, 'id' | 'depends_on'>>): string[] | undefined {
  const deps = new Map<string, string[]>();
  for (const phase of phases) {
    const key = phaseKey(phase.id);
    if (!deps.has(key)) deps.set(key, phase.depends_on.map(phaseKey).filter((d) => d !== key));
  }
  const WHITE = 0;
  const GREY = 1;
  const BLACK = 2;
  const colour = new Map<string, number>();
  const stack: string[] = [];

  // Iterative DFS so a 10,000-phase chain cannot overflow the call stack.
  for (const root of deps.keys()) {
    if ((colour.get(root) ?? WHITE) !== WHITE) continue;
    const frames: Array<{ key: string; next: number }> = [{ key: root, next: 0 }];
    colour.set(root, GREY);
    stack.push(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const children = deps.get(frame.key) ?? [];
      if (frame.next < children.length) {
        const child = children[frame.next++]!;
        if (!deps.has(child)) continue;
        const c = colour.get(child) ?? WHITE;
        if (c === GREY) return [...stack.slice(stack.indexOf(child)), child];
        if (c === WHITE) {
          colour.set(child, GREY);
          stack.push(child);
          frames.push({ key: child, next: 0 });
        }
      } else {
        colour.set(frame.key, BLACK);
        stack.pop();
        frames.pop();
      }
    }
  }
  return undefined;
}

/** Every phase the given one depends on, directly or not, in no particular order. */
export function transitiveDependencies(phasesByKey: ReadonlyMap<string, Phase>, key: string): string[] {
  const seen = new Set<string>();
  const pending = [...(phasesByKey.get(key)?.depends_on.map(phaseKey) ?? [])];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    pending.push(...(phasesByKey.get(next)?.depends_on.map(phaseKey) ?? []));
  }
  return [...seen];
}

/** Phases that depend on the given one, directly or not. */
export function downstreamOf(phases: readonly Phase[], key: string): string[] {
  const dependants = new Map<string, string[]>();
  for (const phase of phases) {
    for (const dep of phase.depends_on) {
      const list = dependants.get(phaseKey(dep)) ?? [];
      list.push(phaseKey(phase.id));
      dependants.set(phaseKey(dep), list);
    }
  }
  const seen = new Set<string>();
  const pending = [...(dependants.get(key) ?? [])];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    pending.push(...(dependants.get(next) ?? []));
  }
  return [...seen];
}
