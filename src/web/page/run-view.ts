/**
 * A run: its state and what it needs, its dependency graph (live), and the phase chosen on it.
 * The status is polled (an unchanged one costs a 304); the graph is laid out again only when the
 * folded layers change.
 */
import type { ActionRequest, ActionResponse, GraphResponse, RunResponse } from '../api.js';
import { finishedLayers } from '../layers.js';
import { duration } from '../node-text.js';
import { badge, external, h, when } from './dom.js';
import { GraphView } from './graph-view.js';
import { ApiError, getIfChanged, getJson, postJson } from './http.js';
import { PhasePanel } from './phase-panel.js';

const POLL_MS = 1500;
const CLOSED_POLL_MS = 10_000;
/** Plans of more phases than this open with their finished layers folded. */
const AUTO_FOLD_OVER = 60;
const NOTICES_SHOWN = 6;

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n) => b.includes(n));
}

export function mountRun(root: HTMLElement, runId: string): void {
  document.title = `${runId} · Baton`;
  const base = `/api/runs/${encodeURIComponent(runId)}`;
  let view: RunResponse | undefined;
  let etag: string | undefined;
  let graph: GraphResponse | undefined;
  let graphShape = '';
  let loadingGraph: Promise<void> | undefined;
  let autoFold: boolean | undefined;
  const unfolded = new Set<number>();
  let selected = new URLSearchParams(location.search).get('phase') ?? undefined;

  // The head: the run, its state, links, and the run's own buttons.
  const title = h('h1', {}, runId);
  const state = h('span', { class: 'state' });
  const meta = h('p', { class: 'meta' });
  const links = h('p', { class: 'links' });
  const pause = h('button', { type: 'button', class: 'act act-pause' }, 'Pause');
  const resume = h('button', { type: 'button', class: 'act act-resume' }, 'Resume');
  const abort = h('button', { type: 'button', class: 'act act-abort danger' }, 'Abort');
  const result = h('p', { class: 'result', role: 'status' });
  const held = h('div', { class: 'held', role: 'note', hidden: true });
  const notices = h('details', { class: 'notices', hidden: true });
  const problem = h('p', { class: 'problem', role: 'alert', hidden: true });

  // The graph pane.
  const search = h('input', { type: 'search', placeholder: 'Find a phase by id or name', 'aria-label': 'Find a phase', class: 'search' });
  const found = h('span', { class: 'found', 'aria-live': 'polite' });
  const foldBox = h('input', { type: 'checkbox', id: 'fold-finished' });
  const zoomOut = h('button', { type: 'button', 'aria-label': 'Zoom out', title: 'Zoom out' }, '−');
  const zoomIn = h('button', { type: 'button', 'aria-label': 'Zoom in', title: 'Zoom in' }, '+');
  const fitButton = h('button', { type: 'button', title: 'The whole graph in view' }, 'Fit');
  const graphInfo = h('span', { class: 'graph-info' });
  const canvas = h('div', { class: 'canvas', 'data-zoom': '1' });
  const legend = h(
    'div',
    { class: 'legend', 'aria-label': 'Colours' },
    ...['pending', 'ready', 'running', 'awaiting_agent', 'completed', 'failed', 'skipped'].map((s) => badge(s)),
    h('span', { class: 'badge', 'data-state': 'pending', 'data-condition': 'blocked' }, 'blocked'),
    h('span', { class: 'badge', 'data-state': 'running', 'data-condition': 'waiting' }, 'waiting for workers'),
  );

  const graphView = new GraphView(canvas, {
    select: (key) => choose(key),
    unfold: (layers) => {
      for (const n of layers) unfolded.add(n);
      void loadGraph().then(() => {
        const first = view && Object.entries(view.layers).find(([, n]) => n === layers[0])?.[0];
        if (first) graphView.centerOn(first);
      });
    },
  });
  const panel = new PhasePanel(base, {
    act: (request) => act(request),
    select: (key) => choose(key, true),
    close: () => choose(undefined),
  });

  root.replaceChildren(
    h('section', { class: 'run-page' },
      h('div', { class: 'run-head' },
        h('div', { class: 'run-title' }, title, state),
        h('div', { class: 'run-actions' }, pause, resume, abort),
      ),
      meta,
      links,
      result,
      held,
      problem,
      notices,
      h('div', { class: 'run-body' },
        h('div', { class: 'graph-pane' },
          h('div', { class: 'toolbar' }, search, found, h('span', { class: 'spacer' }), zoomOut, zoomIn, fitButton, h('label', { class: 'check', for: 'fold-finished' }, foldBox, 'Fold finished layers')),
          canvas,
          h('div', { class: 'graph-foot' }, legend, graphInfo),
        ),
        panel.root,
      ),
    ),
  );

  zoomIn.addEventListener('click', () => graphView.zoomBy(1.25));
  zoomOut.addEventListener('click', () => graphView.zoomBy(0.8));
  fitButton.addEventListener('click', () => graphView.fit());
  foldBox.addEventListener('change', () => {
    autoFold = foldBox.checked;
    unfolded.clear();
    void loadGraph();
  });

  async function act(request: ActionRequest): Promise<ActionResponse> {
    const outcome = await postJson<ActionResponse>(`${base}/actions`, request);
    void refresh(false);
    return outcome;
  }

  async function runAction(button: HTMLButtonElement, request: ActionRequest, doing: string): Promise<void> {
    button.disabled = true;
    result.className = 'result';
    result.setAttribute('role', 'status');
    result.textContent = doing;
    try {
      const outcome = await act(request);
      result.className = `result ${outcome.outcome}`;
      result.setAttribute('role', outcome.outcome === 'refused' ? 'alert' : 'status');
      result.textContent = outcome.outcome === 'refused' ? `The run refused: ${outcome.message}` : outcome.message;
    } catch (err) {
      result.className = 'result refused';
      result.setAttribute('role', 'alert');
      result.textContent = (err as Error).message;
    } finally {
      if (view) renderHead(view);
    }
  }
  pause.addEventListener('click', () => void runAction(pause, { action: 'pause' }, 'Pausing…'));
  resume.addEventListener('click', () => void runAction(resume, { action: 'resume' }, 'Resuming…'));
  abort.addEventListener('click', () => {
    if (!confirm(`Abort run ${runId}? Phases in flight are stopped and rolled back, and the run ends cancelled.`)) return;
    void runAction(abort, { action: 'abort' }, 'Aborting…');
  });

  function choose(key: string | undefined, center = false): void {
    selected = key;
    const url = new URL(location.href);
    if (key === undefined) url.searchParams.delete('phase');
    else url.searchParams.set('phase', key);
    history.replaceState(null, '', url);
    graphView.select(key);
    if (key !== undefined && view) {
      panel.show(key, view);
      if (center) void reveal(key);
    } else panel.hide();
  }

  /** Unfolds the phase's layer if it is folded, then brings it into view. */
  async function reveal(key: string): Promise<void> {
    const layer = view?.layers[key];
    if (layer !== undefined && graph?.folded.includes(layer)) {
      unfolded.add(layer);
      await loadGraph();
    }
    graphView.centerOn(key);
    graphView.select(key);
  }

  function wantedFold(v: RunResponse): number[] {
    if (!autoFold) return [];
    return finishedLayers(v.status.phases, v.layers).filter((n) => !unfolded.has(n));
  }

  function loadGraph(): Promise<void> {
    const v = view;
    if (!v) return Promise.resolve();
    const fold = wantedFold(v);
    const next = (async () => {
      const g = await getJson<GraphResponse>(`${base}/graph?fold=${fold.length ? fold.join(',') : 'none'}`);
      const first = graph === undefined;
      graph = g;
      graphShape = Object.keys(v.layers).join(',');
      graphView.show(g.svg, g.width, g.height);
      // A large plan opens on what needs eyes (the first failed, waiting or running phase), not on all of it.
      if (first && selected === undefined && Object.keys(v.layers).length > AUTO_FOLD_OVER) {
        const byState = (state: string): string | undefined => Object.entries(v.status.phases).find(([, p]) => p.state === state)?.[0];
        const focus = byState('failed') ?? byState('awaiting_agent') ?? byState('running');
        if (focus) graphView.centerOn(focus);
      }
      if (view) graphView.update(view);
      graphView.select(selected);
      applySearch();
      const phases = Object.keys(v.layers).length;
      graphInfo.textContent = `${phases} phase${phases === 1 ? '' : 's'} in ${g.layer_count} layer${g.layer_count === 1 ? '' : 's'}${g.folded.length ? `; ${g.folded.length} finished folded (click one to unfold)` : ''} · layout ${g.layout_ms} ms`;
    })();
    loadingGraph = next.finally(() => {
      if (loadingGraph === next) loadingGraph = undefined;
    });
    return next;
  }

  function renderHead(v: RunResponse): void {
    const s = v.status;
    const open = v.temporal.execution_status === 'running';
    const shown = open ? s.state : s.state === 'running' || s.state === 'held' || s.state === 'paused' ? v.temporal.execution_status : s.state;
    state.replaceChildren(badge(shown), s.paused && open ? badge('paused', 'paused: no new phase starts') : '');
    const counts = new Map<string, number>();
    for (const p of Object.values(s.phases)) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
    meta.replaceChildren(
      `plan ${s.plan} · started `,
      when(s.started_at),
      s.finished_at ? ' · finished ' : '',
      s.finished_at ? when(s.finished_at) : '',
      ` · ${duration({ started_at: s.started_at, finished_at: s.finished_at })} · `,
      [...counts].map(([k, n]) => `${n} ${k.replace('_', ' ')}`).join(', '),
      s.continued ? ` · continued as new ${s.continued.segment}×` : '',
      v.missing_phases ? ` · ${v.missing_phases} finished phases left out (not on this machine)` : '',
    );
    links.replaceChildren(
      external(v.links.temporal_run, 'Open in Temporal UI', 'the run in Temporal\u2019s Web UI'),
      v.links.temporal_details ? ' · ' : '',
      v.links.temporal_details ? external(v.links.temporal_details, 'Current details', 'the run\u2019s phase table, under User Metadata') : '',
      v.links.temporal_history ? ' · ' : '',
      v.links.temporal_history ? external(v.links.temporal_history, 'Event history') : '',
    );
    const enable = (b: HTMLButtonElement, on: boolean, why: string): void => {
      b.disabled = !on;
      if (on) b.removeAttribute('title');
      else b.title = why;
    };
    enable(pause, open && !s.paused, open ? 'the run is paused already' : 'the run has ended');
    enable(resume, open && s.paused, open ? 'the run is not paused' : 'the run has ended');
    enable(abort, open, 'the run has ended');
    held.hidden = !(s.held_reason && open);
    if (s.held_reason && open) {
      // The run's hint names the signal to send; here the phase's buttons do it.
      const failed = Object.entries(s.phases).filter(([, p]) => p.state === 'failed').map(([k]) => k);
      held.replaceChildren(
        h('strong', {}, 'Action needed: '),
        s.held_reason.replace(/\s*Send retryPhase .*$/, ''),
        ' Open ',
        ...failed.flatMap((k, i) => [i ? ', ' : '', h('a', { href: `?phase=${encodeURIComponent(k)}`, class: 'phase-link', onclick: (e: Event) => (e.preventDefault(), choose(k, true)) }, `phase ${k}`)]),
        ', then Retry once its cause is fixed, or Skip.',
      );
    }
    const recent = s.notices.slice(-NOTICES_SHOWN).reverse();
    notices.hidden = recent.length === 0;
    const wasOpen = notices.open;
    notices.replaceChildren(h('summary', {}, `Notices (${s.notices.length}): the latest`), h('ul', {}, ...recent.map((n) => h('li', {}, n))));
    notices.open = wasOpen;
  }

  async function refresh(schedule = true): Promise<void> {
    try {
      const answer = await getIfChanged<RunResponse>(base, etag);
      etag = answer.etag;
      problem.hidden = true;
      if (answer.body) {
        view = answer.body;
        const v = view;
        if (autoFold === undefined) {
          autoFold = Object.keys(v.layers).length > AUTO_FOLD_OVER;
          foldBox.checked = autoFold;
        }
        renderHead(v);
        if (!graph || graphShape !== Object.keys(v.layers).join(',') || !sameSet(graph.folded, wantedFold(v))) {
          await (loadingGraph ?? loadGraph());
          if (graph && !sameSet(graph.folded, wantedFold(v))) await loadGraph();
        }
        graphView.update(v);
        if (selected !== undefined) {
          if (panel.shown === selected) panel.update(v);
          else {
            panel.show(selected, v);
            void reveal(selected);
          }
        }
      }
    } catch (err) {
      problem.hidden = false;
      problem.textContent = err instanceof ApiError && err.status === 404 ? `${err.message}.` : `Cannot read the run: ${(err as Error).message}`;
    }
    if (schedule) setTimeout(() => void refresh(), view && view.temporal.execution_status !== 'running' ? CLOSED_POLL_MS : POLL_MS);
  }

  // Search: by id (exact or prefix) or by a word of the name; Enter goes to the next match.
  let matches: string[] = [];
  let cursor = -1;
  function applySearch(): void {
    const q = search.value.trim().toLowerCase();
    if (!q || !view) {
      matches = [];
      found.textContent = '';
      graphView.highlight(undefined);
      return;
    }
    matches = Object.entries(view.status.phases)
      .filter(([key, p]) => key.toLowerCase() === q || key.toLowerCase().startsWith(q) || p.name.toLowerCase().includes(q))
      .map(([key]) => key);
    found.textContent = matches.length ? `${matches.length} phase${matches.length === 1 ? '' : 's'}: Enter to go` : 'no phase matches';
    graphView.highlight(new Set(matches));
  }
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    cursor = -1;
    searchTimer = setTimeout(applySearch, 120);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    applySearch();
    if (matches.length === 0) return;
    cursor = (cursor + 1) % matches.length;
    choose(matches[cursor], true);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && document.activeElement?.tagName !== 'INPUT') {
      e.preventDefault();
      search.focus();
    }
  });

  void refresh();
}
