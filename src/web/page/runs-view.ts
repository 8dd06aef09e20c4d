/**
 * The runs: open ones first (held, then awaiting an agent, then the rest), then the latest closed ones,
 * from Temporal's visibility store; refreshed every few seconds.
 */
import type { RunRow, RunsResponse } from '../api.js';
import { badge, external, h, safeHref, when } from './dom.js';
import { getJson } from './http.js';

const REFRESH_MS = 3000;

function needs(row: RunRow): string {
  const parts: string[] = [];
  if (row.held_phases.length) parts.push(`phase${row.held_phases.length > 1 ? 's' : ''} ${row.held_phases.join(', ')} failed`);
  if (row.awaiting_agent.length) parts.push(`agent for ${row.awaiting_agent.join(', ')}`);
  return parts.join('; ');
}

function matches(row: RunRow, q: string): boolean {
  if (!q) return true;
  return [row.workflow_id, row.plan ?? '', row.state, row.execution_status].some((t) => t.toLowerCase().includes(q));
}

export function mountRuns(root: HTMLElement): void {
  document.title = 'Runs · Baton';
  const filter = h('input', { type: 'search', placeholder: 'Filter by run, plan or state', 'aria-label': 'Filter runs', class: 'filter' });
  const summary = h('p', { class: 'summary' });
  const error = h('p', { class: 'problem', role: 'alert', hidden: true });
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'runs' },
    h('thead', {}, h('tr', {}, ...['Run', 'Plan', 'State', 'Needs you', 'Running', 'Started', 'Ended', ''].map((t) => h('th', { scope: 'col' }, t)))),
    body,
  );
  const queries = h('p', { class: 'hint' });
  root.replaceChildren(h('section', { class: 'runs-page' }, h('div', { class: 'page-head' }, h('h1', {}, 'Runs'), filter), summary, error, table, queries));

  let latest: RunsResponse | undefined;
  const render = (): void => {
    if (!latest) return;
    const q = filter.value.trim().toLowerCase();
    const rows = latest.runs.filter((r) => matches(r, q));
    const open = latest.runs.filter((r) => r.execution_status === 'running');
    const held = open.filter((r) => r.state === 'held' || r.held_phases.length > 0).length;
    const closed = latest.runs.length - open.length;
    const closedText = closed === 0 ? 'no closed run' : `the ${closed} latest closed below${latest.more ? ' (older ones: Temporal\u2019s Web UI)' : ''}`;
    summary.textContent = `${open.length} open run${open.length === 1 ? '' : 's'}${held ? `, ${held} held for an operator` : ''}; ${closedText}.`;
    body.replaceChildren(
      ...rows.map((r) =>
        h(
          'tr',
          { 'data-run': r.workflow_id, 'data-state': r.state },
          h('td', {}, h('a', { href: safeHref(r.links.baton), class: 'run-link' }, r.workflow_id)),
          h('td', {}, r.plan ?? ''),
          h('td', {}, badge(r.state)),
          h('td', { class: 'needs' }, needs(r)),
          h('td', {}, r.running_phases.join(', ')),
          h('td', {}, when(r.started_at)),
          h('td', {}, when(r.closed_at)),
          h('td', {}, external(r.links.temporal, 'Temporal UI', 'this run in Temporal\u2019s Web UI')),
        ),
      ),
    );
    if (rows.length === 0) body.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'empty' }, latest.runs.length ? 'No run matches the filter.' : 'No Baton runs in this namespace yet: baton run <plan>.')));
    queries.replaceChildren('From Temporal\u2019s visibility: ', ...latest.queries.flatMap((query, i) => [i ? ' and ' : '', h('code', {}, query)]), '.');
  };
  filter.addEventListener('input', render);

  const refresh = async (): Promise<void> => {
    try {
      latest = await getJson<RunsResponse>('/api/runs');
      error.hidden = true;
      render();
    } catch (err) {
      error.hidden = false;
      error.textContent = `Cannot list runs: ${(err as Error).message}`;
    }
    setTimeout(() => void refresh(), REFRESH_MS);
  };
  void refresh();
}
