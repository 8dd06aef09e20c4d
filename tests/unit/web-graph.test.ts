/**
 * `baton ui`'s graph: layers, what blocks what, the dagre layout, and the SVG the page shows (nodes
 * with data-phase and data-state, folded layers, escaping).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PhaseStatus } from '../../src/core/api/status.js';
import { foldGroups, layoutGraph, NODE_HEIGHT, type LayoutPhase } from '../../src/web/graph.js';
import { blockedBy, dependencyOrder, finishedLayers, layersOf } from '../../src/web/layers.js';
import { stateLine } from '../../src/web/node-text.js';
import { edgePath, escapeXml, renderGraphSvg } from '../../src/web/svg.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const example = JSON.parse(readFileSync(path.join(ROOT, 'examples/consolidation/plan.json'), 'utf8')) as { phases: Array<{ id: number; name: string; depends_on: number[] }> };

function status(key: string, name: string, deps: Array<string | number>, state: PhaseStatus['state'], extra: Partial<PhaseStatus> = {}): PhaseStatus {
  return {
    id: /^\d+$/.test(key) ? Number(key) : key,
    name,
    state,
    attempts: state === 'pending' ? 0 : 1,
    generation: state === 'pending' ? 0 : 1,
    resource_class: 'default',
    task_queue: 'baton-default',
    scheduled_at: null,
    started_at: state === 'pending' ? null : '2026-12-01T10:00:00.000Z',
    finished_at: state === 'completed' || state === 'failed' ? '2026-12-01T10:00:02.500Z' : null,
    depends_on: deps,
    separate_agent: false,
    ...extra,
  };
}

/** The example's 13 phases: 0–7 and 9 completed, 8 failed, 10–12 pending. */
function examplePhases(): Record<string, PhaseStatus> {
  const phases: Record<string, PhaseStatus> = {};
  for (const p of example.phases) {
    const state = p.id === 8 ? 'failed' : p.id >= 10 ? 'pending' : 'completed';
    phases[String(p.id)] = status(String(p.id), p.name, p.depends_on, state, state === 'failed' ? { error: 'lint: exit 1', attempts: 2 } : {});
  }
  return phases;
}

/** `layers` layers of `width` phases, each depending on two of the layer before. */
function wide(layers: number, width: number, finishedBefore = 0): Record<string, PhaseStatus> {
  const phases: Record<string, PhaseStatus> = {};
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      const deps = l === 0 ? [] : [`p${l - 1}-${i}`, `p${l - 1}-${(i + 1) % width}`];
      phases[`p${l}-${i}`] = status(`p${l}-${i}`, `Step ${l}.${i}`, deps, l < finishedBefore ? 'completed' : 'pending');
    }
  }
  return phases;
}

const shape = (phases: Record<string, PhaseStatus>): Record<string, LayoutPhase> => Object.fromEntries(Object.entries(phases).map(([k, p]) => [k, { name: p.name, depends_on: p.depends_on }]));

describe('layers and blockers', () => {
  it("puts each phase one layer past its deepest dependency, and says which failed phase holds back which pending one", () => {
    const phases = examplePhases();
    const layers = layersOf(phases);
    expect(layers).toEqual({ '0': 0, '1': 1, '2': 1, '3': 1, '4': 2, '5': 3, '6': 4, '7': 5, '8': 5, '9': 5, '10': 6, '11': 7, '12': 8 });
    expect(blockedBy(phases)).toEqual({ '10': ['8'], '11': ['8'], '12': ['8'] });
    expect(finishedLayers(phases, layers)).toEqual([0, 1, 2, 3, 4]);
    expect(stateLine(phases['10']!, ['8'])).toBe('pending · blocked by 8');
    expect(stateLine(phases['8']!, undefined)).toBe('failed · 2 attempts');
  });

  it('orders a 10,000-phase chain without recursion, and survives a cycle and a missing dependency', () => {
    const chain: Record<string, Pick<PhaseStatus, 'depends_on' | 'state'>> = {};
    for (let i = 0; i < 10_000; i++) chain[`c${i}`] = { depends_on: i ? [`c${i - 1}`] : [], state: i === 0 ? 'failed' : 'pending' };
    expect(layersOf(chain)['c9999']).toBe(9999);
    expect(blockedBy(chain)['c9999']).toEqual(['c0']);
    const odd = { a: { depends_on: ['b'] }, b: { depends_on: ['a'] }, c: { depends_on: ['gone'] } };
    expect(dependencyOrder(odd)).toEqual(['c', 'a', 'b']);
  });

  it('folds consecutive layers into one group', () => {
    expect(foldGroups([5, 0, 1, 2, 2])).toEqual([
      [0, 2],
      [5, 5],
    ]);
  });
});

describe('layout and SVG', () => {
  it('lays out the 13-phase example top to bottom, a node per phase with its state, an edge per dependency', () => {
    const phases = examplePhases();
    const layers = layersOf(phases);
    const layout = layoutGraph({ phases: shape(phases), layers });
    expect(layout.nodes).toHaveLength(13);
    expect(layout.edges).toHaveLength(example.phases.reduce((n, p) => n + p.depends_on.length, 0));
    const y = Object.fromEntries(layout.nodes.map((n) => [n.id, n.y]));
    for (const p of example.phases) for (const d of p.depends_on) expect(y[String(p.id)]!).toBeGreaterThanOrEqual(y[String(d)]! + NODE_HEIGHT);
    // 7, 8 and 9 share a rank, in plan order from left to right.
    expect(new Set(['7', '8', '9'].map((k) => y[k]))).toHaveLength(1);
    const x = Object.fromEntries(layout.nodes.map((n) => [n.id, n.x]));
    expect(x['1']!).toBeLessThan(x['2']!);
    expect(x['2']!).toBeLessThan(x['3']!);
    expect(x['7']!).toBeLessThan(x['8']!);
    expect(x['8']!).toBeLessThan(x['9']!);

    // Edges leave the bottom middle of a node and enter the top middle of the next.
    const box = Object.fromEntries(layout.nodes.map((n) => [n.id, n]));
    for (const e of layout.edges) {
      const [from, to] = [box[e.from]!, box[e.to]!];
      expect(e.points[0]).toEqual({ x: from.x + from.width / 2, y: from.y + from.height });
      expect(e.points.at(-1)).toEqual({ x: to.x + to.width / 2, y: to.y });
    }
    expect(edgePath([{ x: 0, y: 0 }, { x: 10, y: 20 }])).toBe('M0,0 C0,10 10,10 10,20');

    const svg = renderGraphSvg(layout, phases, blockedBy(phases));
    const nodes = [...svg.matchAll(/<g class="node phase" data-phase="([^"]+)" data-state="([^"]+)" data-condition="([^"]*)"/g)].map((m) => [m[1], m[2], m[3]]);
    expect(nodes).toHaveLength(13);
    expect(nodes).toContainEqual(['8', 'failed', '']);
    expect(nodes).toContainEqual(['10', 'pending', 'blocked']);
    expect(nodes).toContainEqual(['0', 'completed', '']);
    expect(svg).toContain('>8 · Lint check</text>');
    expect(svg).toContain('>failed · 2 attempts</text>');
    expect(svg).toContain('>pending · blocked by 8</text>');
    expect(svg).toContain('>completed · 2.5s</text>');
    expect(svg.match(/<path class="edge"/g)).toHaveLength(16);
    expect(svg).toMatch(/<path class="edge" data-from="6" data-to="8" d="M[\d.]+,[\d.]+ .*?"/);
  });

  it('lays out a root that dagre ranks lower than its layer', () => {
    const phases = { a: status('a', 'a', [], 'completed'), b: status('b', 'b', [], 'pending'), c: status('c', 'c', ['a'], 'pending'), d: status('d', 'd', ['c', 'b'], 'pending') };
    const layout = layoutGraph({ phases: shape(phases), layers: layersOf(phases) });
    expect(layout.nodes.map((n) => n.id).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(layout.edges).toHaveLength(3);
  });

  it('escapes what a plan says: names cannot add markup', () => {
    const phases = { x: status('x', '<script>alert("hi")</script> & \'more\'', [], 'failed') };
    const svg = renderGraphSvg(layoutGraph({ phases: shape(phases), layers: layersOf(phases) }), phases);
    expect(svg).not.toContain('<script');
    expect(svg).toContain('x · &lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; &#39;more&#39;');
    expect(escapeXml(`"'<>&`)).toBe('&quot;&#39;&lt;&gt;&amp;');
  });

  it('folds finished layers of a 1,000-phase plan into one node, and lays out the full plan in seconds', () => {
    const phases = wide(20, 50, 15);
    const layers = layersOf(phases);
    expect(finishedLayers(phases, layers)).toEqual([...Array(15).keys()]);

    let started = performance.now();
    const folded = layoutGraph({ phases: shape(phases), layers, folded: finishedLayers(phases, layers) });
    const foldedMs = performance.now() - started;
    expect(folded.nodes).toHaveLength(5 * 50 + 1);
    const fold = folded.nodes.find((n) => n.kind === 'fold')!;
    expect(fold).toMatchObject({ id: 'fold:0-14', first: 0, last: 14 });
    expect(fold.kind === 'fold' && fold.members).toHaveLength(750);
    // Each phase of layer 15 depends on the folded layer 14: one edge each, not two.
    expect(folded.edges.filter((e) => e.from === 'fold:0-14')).toHaveLength(50);
    const svg = renderGraphSvg(folded, phases);
    expect(svg).toContain('data-fold="fold:0-14" data-layers="0,1,2,3,4,5,6,7,8,9,10,11,12,13,14" data-count="750" data-state="completed"');
    expect(svg).toContain('>Layers 0–14 · 750 phases</text>');
    expect(svg.match(/data-phase=/g)).toHaveLength(250);

    started = performance.now();
    const full = layoutGraph({ phases: shape(phases), layers });
    const fullMs = performance.now() - started;
    expect(full.nodes).toHaveLength(1000);
    expect(renderGraphSvg(full, phases).match(/data-phase=/g)).toHaveLength(1000);
    console.log(`layout of 1,000 phases (20 layers of 50): ${Math.round(fullMs)} ms; with 15 finished layers folded (251 nodes): ${Math.round(foldedMs)} ms`);
    expect(fullMs).toBeLessThan(30_000);
  }, 60_000);
});
