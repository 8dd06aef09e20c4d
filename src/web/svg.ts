/**
 * A laid-out graph as SVG: one `<g class="node phase" data-phase="<id>" data-state="<state>">` per
 * phase, one `<g class="node fold">` per group of folded layers, and the edges between them. Colours
 * come from the page's style sheet by `data-state` (and `data-condition`), so the page can recolour a
 * node by changing an attribute. Every word that comes from a plan is escaped.
 */
import type { PhaseStatus } from '../core/api/status.js';
import type { FoldNode, GraphLayout, LayoutEdge, PhaseNode } from './graph.js';
import { fit, nodeCondition, stateLine, SUB_CHARS, TITLE_CHARS, titleLine } from './node-text.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For text and attribute values alike. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** A path through the points that leaves and enters each one vertically: the graph flows top to bottom. */
export function edgePath(points: ReadonlyArray<{ x: number; y: number }>): string {
  const [first, ...rest] = points;
  if (!first) return '';
  let d = `M${round(first.x)},${round(first.y)}`;
  let p = first;
  for (const q of rest) {
    const mid = round((p.y + q.y) / 2);
    d += ` C${round(p.x)},${mid} ${round(q.x)},${mid} ${round(q.x)},${round(q.y)}`;
    p = q;
  }
  return d;
}

function edgeSvg(e: LayoutEdge): string {
  return `<path class="edge" data-from="${escapeXml(e.from)}" data-to="${escapeXml(e.to)}" d="${edgePath(e.points)}" marker-end="url(#baton-arrow)"/>`;
}

function phaseSvg(node: PhaseNode, p: PhaseStatus | undefined, blockedBy: readonly string[] | undefined, now: number): string {
  const key = node.key;
  const name = p?.name ?? key;
  const state = p?.state ?? 'pending';
  const title = titleLine(key, name);
  const sub = p ? stateLine(p, blockedBy, now) : 'not in the status';
  const condition = p ? nodeCondition(p, blockedBy) : '';
  return (
    `<g class="node phase" data-phase="${escapeXml(key)}" data-state="${escapeXml(state)}" data-condition="${condition}" ` +
    `transform="translate(${round(node.x)},${round(node.y)})" tabindex="0" role="button" aria-label="${escapeXml(`Phase ${title}: ${sub}`)}">` +
    `<title>${escapeXml(`${title}\n${sub}`)}</title>` +
    `<rect width="${node.width}" height="${node.height}" rx="7"/>` +
    `<text class="label" x="10" y="19">${escapeXml(fit(title, TITLE_CHARS))}</text>` +
    `<text class="sub" x="10" y="36">${escapeXml(fit(sub, SUB_CHARS))}</text>` +
    `</g>`
  );
}

/** How a group of folded layers reads: `Layers 0–5 · 340 phases` and `338 completed · 2 skipped`. */
export function foldText(node: FoldNode, phases: Record<string, PhaseStatus>): { title: string; sub: string; state: string } {
  const counts = new Map<string, number>();
  for (const key of node.members) {
    const state = phases[key]?.state ?? 'unknown';
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  const layers = node.first === node.last ? `Layer ${node.first}` : `Layers ${node.first}–${node.last}`;
  const n = node.members.length;
  const title = `${layers} · ${n} phase${n === 1 ? '' : 's'}`;
  const parts = [...counts].map(([state, count]) => (counts.size === 1 ? `all ${state}` : `${count} ${state}`));
  return { title, sub: parts.join(' · '), state: counts.size === 1 ? [...counts.keys()][0]! : 'finished' };
}

function foldSvg(node: FoldNode, phases: Record<string, PhaseStatus>): string {
  const { title, sub, state } = foldText(node, phases);
  const layers = Array.from({ length: node.last - node.first + 1 }, (_, i) => node.first + i).join(',');
  return (
    `<g class="node fold" data-fold="${escapeXml(node.id)}" data-layers="${layers}" data-count="${node.members.length}" data-state="${escapeXml(state)}" ` +
    `transform="translate(${round(node.x)},${round(node.y)})" tabindex="0" role="button" aria-label="${escapeXml(`${title}, ${sub}: unfold`)}">` +
    `<title>${escapeXml(`${title}\n${sub}\nClick to unfold`)}</title>` +
    `<rect width="${node.width}" height="${node.height}" rx="7"/>` +
    `<text class="label" x="10" y="19">${escapeXml(fit(title, TITLE_CHARS))}</text>` +
    `<text class="sub" x="10" y="36">${escapeXml(fit(`${sub} · unfold`, SUB_CHARS))}</text>` +
    `</g>`
  );
}

export function renderGraphSvg(
  layout: GraphLayout,
  phases: Record<string, PhaseStatus>,
  blocked: Record<string, string[]> = {},
  now = Date.now(),
): string {
  const phaseCount = layout.nodes.reduce((n, node) => n + (node.kind === 'phase' ? 1 : node.members.length), 0);
  const nodes = layout.nodes.map((node) => (node.kind === 'phase' ? phaseSvg(node, phases[node.key], blocked[node.key], now) : foldSvg(node, phases)));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="${layout.width}" height="${layout.height}" role="group" aria-label="Dependency graph of ${phaseCount} phases">` +
    `<defs><marker id="baton-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>` +
    `<g class="scene"><g class="edges">${layout.edges.map(edgeSvg).join('')}</g><g class="nodes">${nodes.join('')}</g></g>` +
    `</svg>`
  );
}
