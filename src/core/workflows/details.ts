/**
 * The Markdown shown as the run's "current details" in the Temporal Web UI.
 */
import type { RunOverview } from './projections.js';
import { phaseCondition, phaseRemarks, type RemarkFormat } from '../api/phase-remarks.js';
import type { PhaseStatus } from '../api/status.js';
import { md, mdCode } from './markdown.js';

/** Whatever users wrote (names, errors, reasons, messages, paths) goes in as text, never as Markdown. */
const MARKDOWN: RemarkFormat = { text: md, code: mdCode };

const MAX_ROWS = 60;

/** Where the rows come from: the run book, or anything that answers the same. */
export interface DetailsSource {
  keys(): string[];
  phase(key: string): { status(): PhaseStatus };
}

export function renderDetails(overview: RunOverview, source: DetailsSource, runId = '<run>', notices: readonly string[] = [], batonUiUrl?: string): string {
  const held = overview.state === 'held' && overview.failed.length > 0;
  const state = `${overview.state}${overview.paused ? ', paused by an operator' : ''}`;
  const lines = [`**${md(overview.plan)}** · ${held ? `${state} · **action needed**` : state}`, ''];
  // The held reason ends by naming the request in text (for the CLI); here the block below gives it, copyable.
  if (overview.held_reason) lines.push(`> ${md(held ? overview.held_reason.replace(/ Send retryPhase \{[^}]*\} to run it again, or skipPhase to move on\.$/, '') : overview.held_reason)}`, '');
  if (held) lines.push(...actionNeeded(source, overview.failed[0]!, runId));
  if (overview.paused) lines.push(`No phase starts until the run is resumed: send the signal ${mdCode('resume')} (no input), or ${mdCode(`baton resume ${runId}`)}.`, '');
  if (overview.reset) {
    const r = overview.reset;
    lines.push(`Reset${r.reason ? ` (${md(r.reason)})` : ''} at ${md(r.at)}: continues Temporal run ${mdCode(r.base_run_id)} from its event ${md(r.event_id)}; phases run again since get new generations.`, '');
  }
  let shown: string[];
  if (overview.total > MAX_ROWS) {
    // A large plan: count every state, and list the phases that need eyes (not done, not waiting).
    lines.push(Object.entries(overview.counts).map(([state, n]) => `${n} ${state}`).join(' · '), '');
    shown = [...overview.failed, ...overview.running, ...overview.awaiting_agent, ...overview.ready].slice(0, MAX_ROWS);
  } else {
    shown = source.keys();
  }
  const rows = shown.map((key) => [key, source.phase(key).status()] as const);
  const states = new Map(rows.map(([key, p]) => [key, p.state]));
  lines.push('| phase | name | state | attempts | took | blocked by | queue | last error |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [key, p] of rows) {
    const queue = p.separate_agent ? 'external agent' : md(p.task_queue);
    const condition = phaseCondition(p);
    // Failed phases stand out (bold); a running phase's condition (waiting for workers, paused in Temporal) follows its state.
    const stateCell = p.state === 'failed' ? `**${p.state}**` : `${p.state}${condition ? ` (${md(condition)})` : ''}`;
    const error = p.state === 'failed' || p.state === 'running' ? (p.error ?? p.activity?.last_failure) : undefined;
    lines.push(`| ${md(key)} | ${md(p.name)} | ${stateCell} | ${p.attempts} | ${took(p)} | ${blockedBy(p, states, source)} | ${queue} | ${error ? md(cut(error, ERROR_CHARS)) : ''} |`);
  }
  for (const [key, p] of rows) for (const remark of phaseRemarks(p, runId, MARKDOWN)) lines.push('', `Phase ${md(key)} ${sentence(remark.text)}`);
  for (const [key, p] of rows) {
    if (!p.awaiting) continue;
    const progress = p.progress ? ` Last progress: ${md(p.progress.message)}.` : '';
    const c = p.awaiting.claim;
    const claimed = c ? ` Claimed by agent ${md(c.agent)} since ${md(c.since)}, until ${md(c.expires_at)} (its lease).` : '';
    lines.push('', `Phase ${md(key)} awaits an agent until ${md(p.awaiting.deadline ?? 'whenever')}: run ${mdCode(p.awaiting.script_path)}.${claimed}${progress}`);
  }
  const latest = notices.slice(-NOTICES_SHOWN);
  if (latest.length > 0) lines.push('', `Latest notices (the ${mdCode('status')} query has up to 100):`, '', ...latest.map((n) => `- ${md(cut(n, NOTICE_CHARS))}`));
  const page = batonUiUrl ? runPageLink(batonUiUrl, runId) : undefined;
  lines.push('', page ? `[This run in baton ui](${page}): its graph, each phase's log and package, and its buttons. ${mdCode(`baton status ${runId}`)} prints it.` : `${mdCode('baton ui')} draws this run as a graph; ${mdCode(`baton status ${runId}`)} prints it.`);
  return lines.join('\n');
}

/** How much of a phase's error a table cell shows, and how many of the latest notices. */
const ERROR_CHARS = 120;
const NOTICES_SHOWN = 3;
const NOTICE_CHARS = 300;

/**
 * What to send to run the first failed phase again, as a fenced block: code is shown as written
 * (text gets curly quotes), so what is copied from it is valid JSON for the UI's Send a Signal dialog.
 */
function actionNeeded(source: DetailsSource, failedKey: string, runId: string): string[] {
  const { id } = source.phase(failedKey).status();
  const request = JSON.stringify({ phase: id });
  return [
    `To run phase ${md(failedKey)} again once its cause is fixed: **More Actions → Send a Signal**, signal ${mdCode('retryPhase')}, input:`,
    '',
    '```json',
    request,
    '```',
    '',
    `To move on without it, send ${mdCode('skipPhase')} with the same input. From a shell: ${mdCode(`baton retry ${runId} ${id}`)}.`,
    '',
  ];
}

/** How long a finished phase took, from its last attempt's start. */
function took(p: PhaseStatus): string {
  if (!p.started_at || !p.finished_at) return '';
  const ms = Date.parse(p.finished_at) - Date.parse(p.started_at);
  if (!(ms >= 0)) return '';
  if (ms < 1_000) return `${ms} ms`;
  const s = Math.round(ms / 1_000);
  if (s < 60) return `${s} s`;
  if (s < 3_600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} min`;
}

/** For a phase that waits on its dependencies: the first that has not completed, and its state. */
function blockedBy(p: PhaseStatus, states: ReadonlyMap<string, string>, source: DetailsSource): string {
  if (p.state !== 'pending') return '';
  for (const dep of p.depends_on) {
    const key = String(dep);
    const state = states.get(key) ?? source.phase(key).status().state;
    if (state !== 'completed' && state !== 'skipped') return `${md(key)} (${state})`;
  }
  return '';
}

/**
 * The run's page on `baton ui` (the config's baton_ui_url, an http(s) address the plan's checks took):
 * percent-encoded so that no character of it can end the Markdown link early.
 */
function runPageLink(base: string, runId: string): string {
  const safe = base.replace(/\/+$/, '').replace(/[()<>\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return `${safe}/runs/${encodeURIComponent(runId)}`;
}

function cut(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars)}…` : text;
}

function sentence(text: string): string {
  return text.endsWith('.') ? text : `${text}.`;
}
