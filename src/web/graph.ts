/**
 * Lays a run's dependency graph out with dagre (@dagrejs/dagre): top to bottom, one rank per layer.
 * Finished layers can be folded: each run of consecutive folded layers becomes one node, so a plan of
 * a thousand phases shows what is still in play and a line for what is done.
 */
import * as dagre from '@dagrejs/dagre';
import type { PhaseId } from '../core/plan/schema.js';

interface Point {
  x: number;
  y: number;
}
interface Box {
  width: number;
  height: number;
  x?: number;
  y?: number;
}
/**
 * The part of dagre's graph this file uses. dagre's own declarations import their modules without file
 * extensions, which TypeScript's NodeNext resolution does not follow (everything would be `any`), so
 * the types are said here, once.
 */
interface DagreGraph {
  setGraph(label: Record<string, unknown>): void;
  graph(): { width?: number; height?: number };
  setDefaultEdgeLabel(label: () => object): void;
  setNode(id: string, box: Box): void;
  node(id: string): Box;
  nodes(): string[];
  nodeCount(): number;
  setEdge(from: string, to: string): void;
  hasEdge(from: string, to: string): boolean;
  edges(): Array<{ v: string; w: string }>;
  edge(e: { v: string; w: string }): { points?: Point[] };
}
const { Graph, layout } = dagre as unknown as {
  Graph: new () => DagreGraph;
  layout: (g: DagreGraph, opts?: { disableOptimalOrderHeuristic?: boolean; constraints?: Array<{ left: string; right: string }> }) => void;
};

export const NODE_WIDTH = 210;
export const NODE_HEIGHT = 46;
/** Above this many nodes dagre ranks by longest path and keeps its classic ordering: seconds, not minutes. */
const LARGE_GRAPH = 150;

export interface LayoutPhase {
  name: string;
  depends_on: readonly PhaseId[];
}

export interface LayoutInput {
  phases: Record<string, LayoutPhase>;
  layers: Record<string, number>;
  /** Layers to fold. */
  folded?: Iterable<number>;
}

export interface PhaseNode {
  kind: 'phase';
  id: string;
  key: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FoldNode {
  kind: 'fold';
  /** `fold:<first>-<last>` */
  id: string;
  first: number;
  last: number;
  members: string[];
  x: number;
  y: number;
  width: number;
  height: number;
}

export type LayoutNode = PhaseNode | FoldNode;

export interface LayoutEdge {
  /** A phase key, or a fold node's id. */
  from: string;
  to: string;
  points: Point[];
}

export interface GraphLayout {
  width: number;
  height: number;
  /** Top-left corners. */
  nodes: LayoutNode[];
  edges: LayoutEdge[];
}

/** Runs of consecutive layers: [[0, 2], [5, 5]] for 0, 1, 2, 5. */
export function foldGroups(folded: Iterable<number>): Array<[number, number]> {
  const sorted = [...new Set(folded)].sort((a, b) => a - b);
  const groups: Array<[number, number]> = [];
  for (const n of sorted) {
    const last = groups[groups.length - 1];
    if (last && last[1] === n - 1) last[1] = n;
    else groups.push([n, n]);
  }
  return groups;
}

/** Side by side in plan order within each layer (1, 2, 3 from left to right, as the plan lists them). */
function planOrder(keys: string[], layers: Record<string, number>, drawn: (key: string) => boolean): Array<{ left: string; right: string }> {
  const last = new Map<number, string>();
  const constraints: Array<{ left: string; right: string }> = [];
  for (const key of keys) {
    if (!drawn(key)) continue;
    const layer = layers[key] ?? 0;
    const before = last.get(layer);
    if (before !== undefined) constraints.push({ left: before, right: key });
    last.set(layer, key);
  }
  return constraints;
}

/**
 * From the bottom middle of one node to the top middle of the other, through the places dagre keeps
 * clear for the edge in each layer it crosses. (dagre puts a bend between every two ranks, and with
 * order constraints may start an edge at the wrong side of its node; these points avoid both.)
 */
function edgePoints(from: Box, to: Box, points: Point[]): Point[] {
  const through = points.slice(1, -1).filter((_, i) => i % 2 === 1);
  return [{ x: from.x ?? 0, y: (from.y ?? 0) + from.height / 2 }, ...through, { x: to.x ?? 0, y: (to.y ?? 0) - to.height / 2 }];
}

export function layoutGraph(input: LayoutInput): GraphLayout {
  const groups = foldGroups(input.folded ?? []);
  const groupOfLayer = new Map<number, string>();
  const members = new Map<string, string[]>();
  for (const [first, last] of groups) {
    const id = `fold:${first}-${last}`;
    members.set(id, []);
    for (let n = first; n <= last; n++) groupOfLayer.set(n, id);
  }
  const nodeOf = (key: string): string => groupOfLayer.get(input.layers[key] ?? -1) ?? key;

  const g = new Graph();
  const keys = Object.keys(input.phases);
  for (const key of keys) {
    const node = nodeOf(key);
    if (node === key) g.setNode(key, { width: NODE_WIDTH, height: NODE_HEIGHT });
    else members.get(node)!.push(key);
  }
  for (const id of members.keys()) if (members.get(id)!.length > 0) g.setNode(id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const large = g.nodeCount() > LARGE_GRAPH;
  g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 46, marginx: 16, marginy: 16, ...(large ? { ranker: 'longest-path' } : {}) });
  g.setDefaultEdgeLabel(() => ({}));
  for (const key of keys) {
    const to = nodeOf(key);
    for (const dep of input.phases[key]!.depends_on) {
      const depKey = String(dep);
      if (!(depKey in input.phases)) continue;
      const from = nodeOf(depKey);
      if (from !== to && !g.hasEdge(from, to)) g.setEdge(from, to);
    }
  }
  layout(g, large ? { disableOptimalOrderHeuristic: true } : { constraints: planOrder(keys, input.layers, (key) => nodeOf(key) === key) });

  const nodes: LayoutNode[] = g.nodes().map((id) => {
    const n = g.node(id);
    const box = { x: (n.x ?? 0) - n.width / 2, y: (n.y ?? 0) - n.height / 2, width: n.width, height: n.height };
    const group = members.get(id);
    if (group) {
      const [first, last] = id.slice('fold:'.length).split('-').map(Number) as [number, number];
      return { kind: 'fold', id, first, last, members: group, ...box };
    }
    return { kind: 'phase', id, key: id, ...box };
  });
  const edges: LayoutEdge[] = g.edges().map((e) => ({ from: e.v, to: e.w, points: edgePoints(g.node(e.v), g.node(e.w), g.edge(e).points ?? []) }));
  const label = g.graph();
  return { width: Math.ceil(Number(label.width ?? 0)), height: Math.ceil(Number(label.height ?? 0)), nodes, edges };
}
