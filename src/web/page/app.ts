/** `baton ui`'s page: the route in the address picks the view. */
import { h } from './dom.js';
import { mountRun } from './run-view.js';
import { mountRuns } from './runs-view.js';

function start(): void {
  const root = document.getElementById('app');
  if (!root) return;
  const path = location.pathname;
  if (path === '/') return mountRuns(root);
  const run = /^\/runs\/([^/]+)$/.exec(path);
  if (run) return mountRun(root, decodeURIComponent(run[1]!));
  root.replaceChildren(h('p', { class: 'problem' }, 'No such page. ', h('a', { href: '/' }, 'The runs')));
}

start();
