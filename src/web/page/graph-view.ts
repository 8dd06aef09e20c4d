/**
 * The run's graph on the page: the server's SVG, with zoom (wheel, buttons), pan (drag), selection,
 * search highlights, and nodes recoloured in place as the status changes (their `data-state`).
 */
import type { RunResponse } from '../api.js';
import { fit, nodeCondition, stateLine, SUB_CHARS, titleLine } from '../node-text.js';

const MIN_ZOOM = 0.04;
const MAX_ZOOM = 3;
/** Below this zoom a node's words are too small to read. */
const FAR_ZOOM = 0.35;

export interface GraphEvents {
  select(key: string): void;
  unfold(layers: number[]): void;
}

export class GraphView {
  private svg: SVGSVGElement | undefined;
  private scene: SVGGElement | undefined;
  private size = { width: 0, height: 0 };
  private view = { k: 1, x: 0, y: 0 };
  private touched = false;
  private selected: string | undefined;
  private dragged = false;

  constructor(
    readonly container: HTMLElement,
    private readonly events: GraphEvents,
  ) {
    container.addEventListener('click', (e) => this.onClick(e));
    container.addEventListener('keydown', (e) => {
      if ((e.key === 'Enter' || e.key === ' ') && e.target instanceof Element && e.target.closest('.node')) {
        e.preventDefault();
        this.activate(e.target.closest('.node')!);
      }
    });
    container.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    // The pane changes size when a phase's panel opens or the window does: keep an untouched graph fitted.
    new ResizeObserver(() => {
      if (!this.touched) this.fit();
    }).observe(container);
    this.enablePan();
  }

  /** Shows a new layout. The first one is fitted to the pane; later ones keep the zoom. */
  show(svgText: string, width: number, height: number): void {
    // The server escapes every word of the plan in this markup (src/web/svg.ts).
    this.container.innerHTML = svgText;
    this.svg = this.container.querySelector('svg') ?? undefined;
    this.scene = this.svg?.querySelector<SVGGElement>('.scene') ?? undefined;
    this.svg?.removeAttribute('width');
    this.svg?.removeAttribute('height');
    this.size = { width, height };
    if (!this.touched) this.fit();
    else this.apply();
    if (this.selected) this.select(this.selected);
  }

  nodeOf(key: string): SVGGElement | null {
    return this.container.querySelector<SVGGElement>(`.node.phase[data-phase="${CSS.escape(key)}"]`);
  }

  /** Recolours and rewords the phase nodes from a new status, without a new layout. */
  update(view: RunResponse): void {
    const now = Date.now();
    for (const node of this.container.querySelectorAll<SVGGElement>('.node.phase')) {
      const key = node.dataset.phase!;
      const p = view.status.phases[key];
      if (!p) continue;
      const blocked = view.blocked_by[key];
      const sub = stateLine(p, blocked, now);
      node.dataset.state = p.state;
      node.dataset.condition = nodeCondition(p, blocked);
      const subText = node.querySelector('.sub');
      if (subText) subText.textContent = fit(sub, SUB_CHARS);
      const title = node.querySelector('title');
      if (title) title.textContent = `${titleLine(key, p.name)}\n${sub}`;
      node.setAttribute('aria-label', `Phase ${titleLine(key, p.name)}: ${sub}`);
    }
  }

  select(key: string | undefined): void {
    this.selected = key;
    for (const el of this.container.querySelectorAll('.selected, .edge.near')) el.classList.remove('selected', 'near');
    if (key === undefined) return;
    this.nodeOf(key)?.classList.add('selected');
    const k = CSS.escape(key);
    for (const edge of this.container.querySelectorAll(`.edge[data-from="${k}"], .edge[data-to="${k}"]`)) edge.classList.add('near');
  }

  /** Marks the phases a search found; with an empty set, clears the marks. */
  highlight(keys: ReadonlySet<string> | undefined): void {
    this.container.classList.toggle('searching', keys !== undefined);
    for (const node of this.container.querySelectorAll<SVGGElement>('.node.phase')) node.classList.toggle('match', keys?.has(node.dataset.phase!) === true);
  }

  zoomBy(factor: number, at?: { x: number; y: number }): void {
    const rect = this.container.getBoundingClientRect();
    const p = at ?? { x: rect.width / 2, y: rect.height / 2 };
    const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.view.k * factor));
    this.view = { k, x: p.x - ((p.x - this.view.x) * k) / this.view.k, y: p.y - ((p.y - this.view.y) * k) / this.view.k };
    this.touched = true;
    this.apply();
  }

  /** The whole graph in the pane (never enlarged beyond its size). */
  fit(): void {
    const rect = this.container.getBoundingClientRect();
    if (!this.size.width || !rect.width) return;
    const k = Math.max(MIN_ZOOM, Math.min(1, (rect.width - 24) / this.size.width, (rect.height - 24) / this.size.height));
    this.view = { k, x: (rect.width - this.size.width * k) / 2, y: Math.max(12, (rect.height - this.size.height * k) / 2) };
    this.touched = false;
    this.apply();
  }

  /** Brings a phase to the middle of the pane, at a zoom where it can be read. */
  centerOn(key: string): void {
    const node = this.nodeOf(key);
    if (!node) return;
    const box = node.getBBox();
    const at = node.transform.baseVal.consolidate()?.matrix;
    const cx = (at?.e ?? 0) + box.width / 2;
    const cy = (at?.f ?? 0) + box.height / 2;
    const rect = this.container.getBoundingClientRect();
    const k = Math.max(this.view.k, 0.8);
    this.view = { k, x: rect.width / 2 - cx * k, y: rect.height / 2 - cy * k };
    this.touched = true;
    this.apply();
  }

  private apply(): void {
    const { k, x, y } = this.view;
    this.scene?.setAttribute('transform', `translate(${x.toFixed(1)},${y.toFixed(1)}) scale(${k.toFixed(4)})`);
    this.container.dataset.zoom = k.toFixed(2);
    // Zoomed far out, words cannot be read: the nodes become coloured tiles (see app.css).
    this.container.classList.toggle('far', k < FAR_ZOOM);
  }

  private activate(node: Element): void {
    if (node.classList.contains('fold')) {
      const layers = (node.getAttribute('data-layers') ?? '').split(',').filter(Boolean).map(Number);
      this.events.unfold(layers);
    } else {
      const key = node.getAttribute('data-phase');
      if (key !== null) this.events.select(key);
    }
  }

  private onClick(e: MouseEvent): void {
    if (this.dragged) return;
    const node = e.target instanceof Element ? e.target.closest('.node') : null;
    if (node) this.activate(node);
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const rect = this.container.getBoundingClientRect();
    this.zoomBy(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)), { x: e.clientX - rect.left, y: e.clientY - rect.top });
  }

  private enablePan(): void {
    let start: { x: number; y: number; vx: number; vy: number; id: number } | undefined;
    this.container.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      this.dragged = false;
      start = { x: e.clientX, y: e.clientY, vx: this.view.x, vy: this.view.y, id: e.pointerId };
    });
    this.container.addEventListener('pointermove', (e) => {
      if (!start || e.pointerId !== start.id) return;
      const dx = e.clientX - start.x;
      const dy = e.clientY - start.y;
      if (!this.dragged && Math.hypot(dx, dy) < 4) return;
      if (!this.dragged) this.container.setPointerCapture(e.pointerId);
      this.dragged = true;
      this.container.classList.add('panning');
      this.view = { ...this.view, x: start.vx + dx, y: start.vy + dy };
      this.touched = true;
      this.apply();
    });
    const end = (e: PointerEvent): void => {
      if (!start || e.pointerId !== start.id) return;
      start = undefined;
      this.container.classList.remove('panning');
      if (this.container.hasPointerCapture(e.pointerId)) this.container.releasePointerCapture(e.pointerId);
      // The click that ends a drag is not a click on a node.
      setTimeout(() => (this.dragged = false), 0);
    };
    this.container.addEventListener('pointerup', end);
    this.container.addEventListener('pointercancel', end);
  }
}
