/**
 * A plan's shape as the page draws it: each phase's layer (0 with no dependencies, else one past its
 * deepest dependency) and which failed phases hold back which pending ones. Pure, and iterative
 * (Kahn's order), so a 10,000-phase chain costs no stack.
 */
import type { PhaseStatus } from '../core/api/status.js';

export type ShapePhase = Pick<PhaseStatus, 'state' | 'depends_on'>;

/**
 * Phase keys, dependencies first. Dependencies the map lacks are ignored; phases on a cycle (a plan
 * Baton would have refused) come last, in key order.
 */
export function dependencyOrder(phases: Record<string, Pick<PhaseStatus, 'depends_on'>>): string[] {
  const waiting = new Map<string, number>();
  const dependants = new Map<string, string[]>();
  for (const [key, p] of Object.entries(phases)) {
    let n = 0;
    for (const dep of new Set(p.depends_on.map(String))) {
      if (!(dep in phases) || dep === key) continue;
      n++;
      const list = dependants.get(dep);
      if (list) list.push(key);
      else dependants.set(dep, [key]);
    }
    waiting.set(key, n);
  }
  const order: string[] = [];
  const ready = [...waiting].filter(([, n]) => n === 0).map(([k]) => k);
  for (let i = 0; i < ready.length; i++) {
    const key = ready[i]!;
    order.push(key);
    for (const next of dependants.get(key) ?? []) {
      const left = waiting.get(next)! - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  if (order.length < waiting.size) {
    const placed = new Set(order);
    order.push(...[...waiting.keys()].filter((k) => !placed.has(k)).sort());
  }
  return order;
}

export function layersOf(phases: Record<string, Pick<PhaseStatus, 'depends_on'>>, order = dependencyOrder(phases)): Record<string, number> {
  const layer: Record<string, number> = {};
  for (const key of order) {
    let deepest = -1;
    for (const dep of phases[key]!.depends_on) {
      const d = layer[String(dep)];
      if (d !== undefined && d > deepest) deepest = d;
    }
    layer[key] = deepest + 1;
  }
  return layer;
}

/** For each pending or ready phase held back by failed phases upstream: those failed phases. */
export function blockedBy(phases: Record<string, ShapePhase>, order = dependencyOrder(phases)): Record<string, string[]> {
  const blockers = new Map<string, Set<string>>();
  const result: Record<string, string[]> = {};
  for (const key of order) {
    const p = phases[key]!;
    if (p.state !== 'pending' && p.state !== 'ready') continue;
    const found = new Set<string>();
    for (const dep of p.depends_on) {
      const depKey = String(dep);
      const d = phases[depKey];
      if (d?.state === 'failed') found.add(depKey);
      else for (const b of blockers.get(depKey) ?? []) found.add(b);
    }
    blockers.set(key, found);
    if (found.size > 0) result[key] = [...found].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  }
  return result;
}

/** Layers whose every phase has completed or been skipped. */
export function finishedLayers(phases: Record<string, Pick<PhaseStatus, 'state'>>, layers: Record<string, number>): number[] {
  const open = new Set<number>();
  const all = new Set<number>();
  for (const [key, n] of Object.entries(layers)) {
    all.add(n);
    const state = phases[key]?.state;
    if (state !== 'completed' && state !== 'skipped') open.add(n);
  }
  return [...all].filter((n) => !open.has(n)).sort((a, b) => a - b);
}
