/**
 * The Markdown shown as the run's "current details" in the Temporal Web UI.
 */
import type { RunOverview } from './projections.js';
import { phaseCondition, phaseRemarks } from '../api/phase-remarks.js';
import type { PhaseStatus } from '../api/status.js';

const MAX_ROWS = 60;

/** Where the rows come from: the run book, or anything that answers the same. */
export interface DetailsSource {
  keys(): string[];
  phase(key: string): { status(): PhaseStatus };
}

export function renderDetails(overview: RunOverview, source: DetailsSource, runId = '<run>'): string {
  const lines = [`**${overview.plan}** · ${overview.state}${overview.paused ? ' (paused)' : ''}`, ''];
  if (overview.held_reason) lines.push(`> ${overview.held_reason}`, '');
  if (overview.reset) {
    const r = overview.reset;
    lines.push(`Reset${r.reason ? ` (${r.reason})` : ''} at ${r.at}: continues Temporal run \`${r.base_run_id}\` from its event ${r.event_id}; phases run again since get new generations.`, '');
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
    const queue = p.separate_agent ? 'external agent' : p.task_queue;
    const condition = phaseCondition(p);
    lines.push(`| ${key} | ${p.name} | ${p.state}${condition ? ` (${condition})` : ''} | ${p.attempts} | ${queue} |`);
  }
  for (const [key, p] of rows) for (const remark of phaseRemarks(p, runId)) lines.push('', `Phase ${key} ${sentence(remark.text)}`);
  for (const [key, p] of rows) {
    if (!p.awaiting) continue;
    const progress = p.progress ? ` Last progress: ${p.progress.message}.` : '';
    lines.push('', `Phase ${key} awaits an agent until ${p.awaiting.deadline ?? 'whenever'}: run \`${p.awaiting.script_path}\`.${progress}`);
  }
  return lines.join('\n');
}

function sentence(text: string): string {
  return text.endsWith('.') ? text : `${text}.`;
}
