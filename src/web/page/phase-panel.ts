/**
 * One phase, beside the graph: what it is doing, its error and log (the tail, live while it runs), its
 * artifacts, output, provenance, package and Temporal's view of it, and the buttons that act on it.
 */
import type { PhaseStatus } from '../../core/api/status.js';
import type { ActionRequest, ActionResponse, LogsResponse, LogTail, PackageResponse, RunResponse } from '../api.js';
import { phaseRemarks } from '../../core/api/phase-remarks.js';
import { duration, titleLine } from '../node-text.js';
import { badge, bytes, external, h, replace, when, type Child } from './dom.js';
import { getJson } from './http.js';

const LOG_REFRESH_MS = 2000;
const RETRYABLE = new Set(['failed', 'completed', 'skipped']);
const SKIPPABLE = new Set(['pending', 'ready', 'failed']);
const MARKABLE = new Set(['failed', 'awaiting_agent']);
const HANDABLE = new Set(['pending', 'failed']);

export interface PanelEvents {
  act(request: ActionRequest): Promise<ActionResponse>;
  select(key: string): void;
  close(): void;
}

function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: `part part-${title.toLowerCase().replace(/\W+/g, '-')}` }, h('h3', {}, title), ...children);
}

function facts(rows: Array<[string, Child] | false | undefined>): HTMLDListElement {
  const dl = h('dl', { class: 'facts' });
  for (const row of rows) {
    if (!row || row[1] === '' || row[1] === null || row[1] === undefined) continue;
    dl.append(h('dt', {}, row[0]), h('dd', {}, row[1]));
  }
  return dl;
}

function json(value: unknown): HTMLPreElement {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

export class PhasePanel {
  readonly root = h('aside', { class: 'phase-panel', 'aria-label': 'Phase' });
  private key: string | undefined;
  private live = h('div', { class: 'live' });
  private result = h('p', { class: 'result', role: 'status' });
  private logPart = h('div', { class: 'log' });
  private logSelect = h('select', { 'aria-label': 'Log file' });
  private logText = h('pre', { class: 'log-text', tabindex: 0 });
  private logNote = h('p', { class: 'hint' });
  private packagePart = h('div', { class: 'package' });
  private logChoice: string | undefined;
  private logTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSeen: { generation: number; attempts: number; state: string } | undefined;
  private view: RunResponse | undefined;
  private busy = false;
  private downstream = h('input', { type: 'checkbox', id: 'retry-downstream' });
  private retryButton = h('button', { type: 'button', class: 'act act-retry' }, 'Retry');
  private skipButton = h('button', { type: 'button', class: 'act act-skip' }, 'Skip');
  /** Opens the form below: the output to complete the phase with, which the run checks like an agent's. */
  private markDoneButton = h('button', { type: 'button', class: 'act act-mark-done' }, 'Mark done');
  private outputText = h('textarea', { class: 'output-text', rows: 6, 'aria-label': 'Output (JSON)', spellcheck: 'false' });
  private markDoneSubmit = h('button', { type: 'button', class: 'act act-mark-done-submit' }, 'Mark done with this output');
  private markDoneForm = h(
    'div',
    { class: 'mark-done-form' },
    h('p', { class: 'hint' }, 'The output the phase completes with: {"context": {…}, "artifacts": {"name": "path in the workdir"}}. The run checks it as it checks an agent\u2019s result (its output_schema, credentials, the files), then its dependants run.'),
    this.outputText,
    this.markDoneSubmit,
  );
  private toAgentButton = h('button', { type: 'button', class: 'act act-hand' }, 'Hand to agent');
  private toWorkerButton = h('button', { type: 'button', class: 'act act-hand' }, 'Hand to worker');
  private actions = h(
    'div',
    { class: 'actions' },
    this.retryButton,
    h('label', { class: 'check', for: 'retry-downstream' }, this.downstream, 'and its dependants'),
    this.skipButton,
    this.markDoneButton,
    this.toAgentButton,
    this.toWorkerButton,
  );


  constructor(
    private readonly base: string,
    private readonly events: PanelEvents,
  ) {
    this.logSelect.addEventListener('change', () => {
      this.logChoice = this.logSelect.value;
      void this.loadLog();
    });
    this.logPart.append(h('div', { class: 'log-bar' }, this.logSelect), this.logText, this.logNote);
    this.retryButton.addEventListener('click', () => void this.act({ action: 'retry', phase: this.key!, downstream: this.downstream.checked }));
    this.skipButton.addEventListener('click', () => void this.act({ action: 'skip', phase: this.key! }));
    this.markDoneForm.hidden = true;
    this.markDoneButton.addEventListener('click', () => {
      this.markDoneForm.hidden = !this.markDoneForm.hidden;
      if (!this.outputText.value) this.outputText.value = '{"context": {}, "artifacts": {}}';
    });
    this.markDoneSubmit.addEventListener('click', () => void this.markDone());
    this.toAgentButton.addEventListener('click', () => void this.act({ action: 'hand', phase: this.key!, to: 'agent' }));
    this.toWorkerButton.addEventListener('click', () => void this.act({ action: 'hand', phase: this.key!, to: 'worker' }));
    this.root.hidden = true;
  }

  get shown(): string | undefined {
    return this.key;
  }

  show(key: string, view: RunResponse): void {
    const changed = key !== this.key;
    this.key = key;
    this.root.hidden = false;
    if (changed) {
      this.result.textContent = '';
      this.result.className = 'result';
      this.logChoice = undefined;
      this.logText.textContent = '';
      this.lastSeen = undefined;
      this.downstream.checked = false;
    }
    this.update(view);
  }

  hide(): void {
    this.key = undefined;
    this.root.hidden = true;
    clearTimeout(this.logTimer);
  }

  /** A new status: the facts again; the log and package again when the phase has moved on. */
  update(view: RunResponse): void {
    this.view = view;
    const key = this.key;
    if (key === undefined) return;
    const p = view.status.phases[key];
    if (!p) {
      this.root.replaceChildren(h('p', { class: 'problem' }, `Phase ${key} is not in the run's status (it may have been left out for size).`));
      return;
    }
    this.root.setAttribute('aria-label', `Phase ${key}`);
    this.root.dataset.phase = key;
    this.render(key, p, view);
    const seen = { generation: p.generation, attempts: p.attempts, state: p.state };
    const moved = !this.lastSeen || this.lastSeen.generation !== seen.generation || this.lastSeen.attempts !== seen.attempts || this.lastSeen.state !== seen.state;
    this.lastSeen = seen;
    if (moved) {
      void this.loadPackage();
      void this.loadLog(true);
    }
  }

  private render(key: string, p: PhaseStatus, view: RunResponse): void {
    const open = view.temporal.execution_status === 'running';
    const blocked = view.blocked_by[key];
    const ended = 'the run has ended';
    const state = p.state.replace('_', ' ');
    this.enable(this.retryButton, open && RETRYABLE.has(p.state), open ? `a ${state} phase cannot be retried; only a failed, completed or skipped one` : ended);
    this.enable(this.skipButton, open && SKIPPABLE.has(p.state), open ? `a ${state} phase cannot be skipped; only a pending, ready or failed one` : ended);
    this.enable(this.markDoneButton, open && MARKABLE.has(p.state), open ? `a ${state} phase cannot be marked done; only a failed one or one awaiting an agent` : ended);
    this.enable(this.markDoneSubmit, open && MARKABLE.has(p.state), open ? `a ${state} phase cannot be marked done` : ended);
    if (!(open && MARKABLE.has(p.state))) this.markDoneForm.hidden = true;
    this.enable(this.toAgentButton, open && !p.separate_agent && HANDABLE.has(p.state), open ? (p.separate_agent ? 'it already goes to an external agent' : `a ${state} phase cannot be handed on; only a pending or failed one`) : ended);
    this.enable(
      this.toWorkerButton,
      open && (p.state === 'awaiting_agent' || (p.separate_agent && HANDABLE.has(p.state))),
      open ? (p.separate_agent ? `a ${state} phase cannot be handed on; only a pending, failed or waiting one` : 'it already goes to a worker') : ended,
    );

    const remarks = phaseRemarks(p, view.status.execution_id).map((r) => h('p', { class: `remark remark-${r.kind}` }, `Phase ${key} ${r.text}`));
    if (blocked?.length) remarks.unshift(h('p', { class: 'remark remark-blocked' }, `Blocked by failed phase${blocked.length > 1 ? 's' : ''} `, ...blocked.flatMap((b, i) => [i ? ', ' : '', this.phaseLink(b)]), ': retry or skip it to go on.'));
    if (p.awaiting) remarks.push(h('p', { class: 'remark' }, `Awaits an external agent until ${p.awaiting.deadline ?? 'whenever'}: run `, h('code', {}, p.awaiting.script_path), '.'));
    const claim = p.awaiting?.claim;
    if (claim) remarks.push(h('p', { class: 'remark' }, `Claimed by agent ${claim.agent} since ${claim.since}, until ${claim.expires_at} (its lease).`));
    if (p.progress) remarks.push(h('p', { class: 'remark' }, `Agent's progress: ${p.progress.message}${p.progress.percent !== undefined ? ` (${p.progress.percent}%)` : ''}`));
    if (p.handoff_fallback) remarks.push(h('p', { class: 'remark' }, `Ran inline: ${p.handoff_fallback}`));
    if (p.agent_fallback) remarks.push(h('p', { class: 'remark' }, `Ran on a worker: ${p.agent_fallback}`));

    const dependants = Object.entries(view.status.phases)
      .filter(([, q]) => q.depends_on.some((d) => String(d) === key))
      .map(([k]) => k);
    const links = (keys: string[]): Child => (keys.length ? h('span', {}, ...keys.flatMap((k, i) => [i ? ', ' : '', this.phaseLink(k)])) : '');

    const artifacts = Object.entries(p.context?.artifacts ?? {});
    const a = p.activity;
    const temporalLinks = h(
      'p',
      { class: 'links' },
      p.state === 'running' && view.links.temporal_pending_activities ? external(view.links.temporal_pending_activities, 'Pending activities in Temporal', 'Pause, Reset or Update Options on this phase\u2019s activity') : null,
      p.state === 'running' && view.links.temporal_pending_activities ? ' · ' : '',
      view.links.temporal_history ? external(view.links.temporal_history, 'Event history in Temporal') : external(view.links.temporal_run, 'The run in Temporal'),
    );

    replace(
      this.live,
      h('div', { class: 'phase-head' }, h('h2', {}, titleLine(key, p.name)), badge(p.state), h('button', { type: 'button', class: 'close', 'aria-label': 'Close the phase', onclick: () => this.events.close() }, '×')),
      ...remarks,
      this.actions,
      this.markDoneForm,
      this.result,
      p.error ? section('Error', h('pre', { class: 'error-text' }, p.error)) : null,
      facts([
        ['Attempts', String(p.attempts)],
        ['Generation', String(p.generation)],
        ['Queue', p.separate_agent ? `external agent (${p.task_queue})` : p.task_queue],
        ['Scheduled', when(p.scheduled_at)],
        ['Started', when(p.started_at)],
        ['Finished', when(p.finished_at)],
        ['Took', duration(p)],
        ['Ran on', p.executed_by ?? ''],
        ['Depends on', links(p.depends_on.map(String))],
        ['Dependants', links(dependants)],
        p.reused_from ? ['Reused from', p.reused_from] : undefined,
        p.override ? ['Changed by retry', JSON.stringify(p.override)] : undefined,
        p.compensation ? ['Rollback', `${p.compensation.state} ${p.compensation.error ?? ''}`] : undefined,
        p.waiting_for_workers ? ['Waits for workers', p.waiting_for_workers] : undefined,
      ]),
    );
    const after = [
      section(
        'In Temporal',
        a
          ? facts([
              ['Activity', h('code', {}, a.id)],
              ['State', a.state.replace('_', ' ')],
              ['Attempt', a.maximum_attempts > 0 ? `${a.attempt} of ${a.maximum_attempts}` : `${a.attempt} (no limit)`],
              ['Next attempt', when(a.next_attempt_at)],
              ['Last failure', a.last_failure ?? ''],
              a.paused ? ['Paused', `${a.paused.by ? `by ${a.paused.by} ` : ''}${a.paused.reason ? `(${a.paused.reason}) ` : ''}${a.paused.at ? `at ${new Date(a.paused.at).toLocaleString()}` : ''}`] : undefined,
              a.changed?.length ? ['Changed settings', a.changed.map((c) => `${c} ${String(a.settings?.[c as keyof typeof a.settings] ?? '')}`).join(', ')] : undefined,
            ])
          : h('p', { class: 'hint' }, p.state === 'running' ? 'Its activity runs as the run gave it: first attempt, settings unchanged.' : 'Nothing beyond the status: Temporal reports on a phase only while its activity runs.'),
        temporalLinks,
      ),
      section('Log', this.logPart),
      artifacts.length
        ? section(
            'Artifacts',
            h(
              'table',
              { class: 'artifacts' },
              h('thead', {}, h('tr', {}, h('th', {}, 'name'), h('th', {}, 'path'), h('th', {}, 'size'), h('th', {}, 'sha256'))),
              h('tbody', {}, ...artifacts.map(([name, ref]) => h('tr', {}, h('td', {}, name), h('td', { title: `${view.status.workdir}/${ref.path}` }, h('code', {}, ref.path)), h('td', {}, bytes(ref.size)), h('td', { title: ref.sha256 }, h('code', {}, ref.sha256.slice(0, 8)))))),
            ),
            h('p', { class: 'hint' }, 'Paths are relative to the run\u2019s workdir, ', h('code', {}, view.status.workdir), '.'),
          )
        : null,
      p.context && Object.keys(p.context.context).length ? section('Output', json(p.context.context)) : null,
      p.provenance
        ? section(
            'Provenance',
            facts([
              ['Via', `${p.provenance.via} (${p.provenance.mode})`],
              ['Executed by', p.provenance.executed_by],
              ['Agent', p.provenance.agent ?? ''],
              ['Host', p.provenance.host ?? ''],
              ['User', p.provenance.user ?? ''],
              ['Package hash', p.provenance.package_hash ? h('code', { title: p.provenance.package_hash }, p.provenance.package_hash.slice(0, 16)) : ''],
              ['Result hash', p.provenance.result_hash ? h('code', { title: p.provenance.result_hash }, p.provenance.result_hash.slice(0, 16)) : ''],
              ['From', when(p.provenance.started_at)],
              ['To', when(p.provenance.finished_at)],
            ]),
          )
        : null,
      section('Package', this.packagePart),
    ];
    this.root.replaceChildren(this.live, ...after.filter((x): x is HTMLElement => x !== null));
  }

  private enable(button: HTMLButtonElement, enabled: boolean, why: string): void {
    button.dataset.enabled = String(enabled);
    button.disabled = this.busy || !enabled;
    if (enabled) button.removeAttribute('title');
    else button.title = why;
  }

  /** The output as typed: it must be a JSON object before anything is sent; the run checks the rest. */
  private async markDone(): Promise<void> {
    let output: unknown;
    try {
      output = JSON.parse(this.outputText.value);
    } catch (err) {
      return this.refuse(`The output is not JSON (${(err as Error).message}); write {"context": {…}, "artifacts": {…}}.`);
    }
    if (!output || typeof output !== 'object' || Array.isArray(output)) return this.refuse('The output must be a JSON object: {"context": {…}, "artifacts": {…}}.');
    await this.act({ action: 'mark-done', phase: this.key!, output: output as ActionRequest['output'] });
  }

  private refuse(message: string): void {
    this.result.className = 'result refused';
    this.result.setAttribute('role', 'alert');
    this.result.textContent = message;
  }

  private async act(request: ActionRequest): Promise<void> {
    const buttons = [this.retryButton, this.skipButton, this.markDoneButton, this.markDoneSubmit, this.toAgentButton, this.toWorkerButton];
    const verb = { retry: 'Retrying', skip: 'Skipping', 'mark-done': 'Marking done', hand: 'Handing on' }[request.action as 'retry' | 'skip' | 'mark-done' | 'hand'] ?? request.action;
    this.busy = true;
    for (const b of buttons) b.disabled = true;
    this.result.className = 'result';
    this.result.setAttribute('role', 'status');
    this.result.textContent = `${verb} phase ${request.phase ?? ''}…`;
    try {
      const outcome = await this.events.act(request);
      this.result.className = `result ${outcome.outcome}`;
      this.result.setAttribute('role', outcome.outcome === 'refused' ? 'alert' : 'status');
      this.result.textContent = outcome.outcome === 'refused' ? `The run refused: ${outcome.message}` : outcome.message;
    } catch (err) {
      this.result.className = 'result refused';
      this.result.setAttribute('role', 'alert');
      this.result.textContent = (err as Error).message;
    } finally {
      this.busy = false;
      for (const b of buttons) b.disabled = b.dataset.enabled !== 'true';
    }
  }

  private phaseLink(key: string): HTMLAnchorElement {
    return h('a', { href: `?phase=${encodeURIComponent(key)}`, class: 'phase-link', onclick: (e: Event) => (e.preventDefault(), this.events.select(key)) }, key);
  }

  private phaseUrl(key: string, what: string): string {
    return `${this.base}/phases/${encodeURIComponent(key)}/${what}`;
  }

  private async loadPackage(): Promise<void> {
    const key = this.key;
    if (key === undefined) return;
    try {
      const pkg = await getJson<PackageResponse>(this.phaseUrl(key, 'package'));
      if (key !== this.key) return;
      const open = this.packagePart.querySelector('details')?.open ?? false;
      replace(
        this.packagePart,
        facts([
          ['File', h('code', {}, pkg.path)],
          ['Run it by hand', pkg.script_path ? h('code', {}, pkg.script_path) : ''],
        ]),
        pkg.problem ? h('p', { class: 'hint' }, pkg.problem) : null,
        pkg.package ? h('details', { open }, h('summary', {}, 'The package'), json(pkg.package)) : null,
      );
    } catch (err) {
      this.packagePart.replaceChildren(h('p', { class: 'problem' }, (err as Error).message));
    }
  }

  /** The latest attempt's log worth reading first: stderr when the phase failed, else whichever stream has something. */
  private defaultLog(logs: LogsResponse): LogsResponse['files'][number] | undefined {
    const latest = logs.files[0];
    if (!latest) return undefined;
    const attempt = logs.files.filter((f) => f.generation === latest.generation && f.attempt === latest.attempt && f.compensate === latest.compensate);
    const stream = (name: 'stdout' | 'stderr'): LogsResponse['files'][number] | undefined => attempt.find((f) => f.stream === name && f.size > 0);
    const failed = this.key !== undefined && this.view?.status.phases[this.key]?.state === 'failed';
    return (failed ? (stream('stderr') ?? stream('stdout')) : (stream('stdout') ?? stream('stderr'))) ?? latest;
  }

  /** Reads the log list and the chosen log's tail; again in a moment while the phase runs. */
  private async loadLog(listToo = false): Promise<void> {
    clearTimeout(this.logTimer);
    const key = this.key;
    if (key === undefined) return;
    try {
      if (listToo || this.logSelect.options.length === 0) {
        const logs = await getJson<LogsResponse>(this.phaseUrl(key, 'logs'));
        if (key !== this.key) return;
        this.logSelect.replaceChildren(
          ...logs.files.map((f) => h('option', { value: f.name }, `${f.compensate ? 'rollback ' : ''}generation ${f.generation} attempt ${f.attempt} · ${f.stream} · ${bytes(f.size)}`)),
        );
        this.logSelect.hidden = logs.files.length === 0;
        const choice = this.logChoice && logs.files.some((f) => f.name === this.logChoice) ? this.logChoice : this.defaultLog(logs)?.name;
        if (choice) this.logSelect.value = choice;
        this.logNote.textContent = logs.problem ?? (logs.files.length ? `In ${logs.dir}` : 'No log yet.');
        if (!choice) this.logText.textContent = '';
      }
      const name = this.logSelect.value;
      if (name) {
        const tail = await getJson<LogTail>(`${this.phaseUrl(key, 'logs')}/${encodeURIComponent(name)}`);
        if (key !== this.key) return;
        const atEnd = this.logText.scrollTop + this.logText.clientHeight >= this.logText.scrollHeight - 8;
        this.logText.textContent = tail.text || '(empty)';
        this.logText.dataset.truncated = String(tail.truncated);
        if (atEnd) this.logText.scrollTop = this.logText.scrollHeight;
      }
    } catch (err) {
      this.logNote.textContent = (err as Error).message;
    }
    const state = this.view?.status.phases[key]?.state;
    if (state === 'running' || state === 'awaiting_agent') this.logTimer = setTimeout(() => void this.loadLog(true), LOG_REFRESH_MS);
  }
}
