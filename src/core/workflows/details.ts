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

export function renderDetails(overview: RunOverview, source: DetailsSource, runId = '<run>'): string {
  const lines = [`**${md(overview.plan)}** · ${overview.state}${overview.paused ? ' (paused)' : ''}`, ''];
  if (overview.held_reason) lines.push(`> ${md(overview.held_reason)}`, '');
  if (overview.reset) {
    const r = overview.reset;
    lines.push(`Reset${r.reason ? ` (${md(r.reason)})` : ''} at ${md(r.at)}: continues Temporal run ${mdCode(r.base_run_id)} from its event ${md(r.event_id)}; phases run again since get new generations.`, '');
  }
  let shown: string[];
  if (overview.total > MAX_ROWS) {
    // A large plan: count every state, and list the phases that need eyes (not done, not waiting).
    lines.push(Object.entries(overview.counts).map(([state, n]) => `${n} ${state}`).join(' · '), '');
    shown = [...overview.ready, ...overview.running, ...overview.awaiting_agent, ...overview.failed].slice(0, MAX_ROWS);
  } else {
    shown = source.keys();
  }
  const rows = shown.map((key) => [key, source.phase(key).status()] as const);
  lines.push('| phase | name | state | attempts | queue |', '| --- | --- | --- | --- | --- |');
  for (const [key, p] of rows) {
    const queue = p.separate_agent ? 'external agent' : md(p.task_queue);
    const condition = phaseCondition(p);
    lines.push(`| ${md(key)} | ${md(p.name)} | ${p.state}${condition ? ` (${md(condition)})` : ''} | ${p.attempts} | ${queue} |`);
  }
  for (const [key, p] of rows) for (const remark of phaseRemarks(p, runId, MARKDOWN)) lines.push('', `Phase ${md(key)} ${sentence(remark.text)}`);
  for (const [key, p] of rows) {
    if (!p.awaiting) continue;
    const progress = p.progress ? ` Last progress: ${md(p.progress.message)}.` : '';
    lines.push('', `Phase ${md(key)} awaits an agent until ${md(p.awaiting.deadline ?? 'whenever')}: run ${mdCode(p.awaiting.script_path)}.${progress}`);
  }
  return lines.join('\n');
}

function sentence(text: string): string {
  return text.endsWith('.') ? text : `${text}.`;
}
