/**
 * The Markdown shown as the run's "current details" in the Temporal Web UI.
 */
import type { RunStatus } from './status.js';

const MAX_ROWS = 60;

export function renderDetails(status: RunStatus): string {
  const lines = [`**${status.plan}** · ${status.state}${status.paused ? ' (paused)' : ''}`, ''];
  if (status.held_reason) lines.push(`> ${status.held_reason}`, '');
  const entries = Object.entries(status.phases);
  let shown = entries;
  if (entries.length > MAX_ROWS) {
    // A large plan: count every state, and list the phases that need eyes (not done, not waiting).
    const counts: Record<string, number> = {};
    for (const [, p] of entries) counts[p.state] = (counts[p.state] ?? 0) + 1;
    lines.push(Object.entries(counts).map(([state, n]) => `${n} ${state}`).join(' · '), '');
    shown = entries.filter(([, p]) => p.state !== 'completed' && p.state !== 'pending' && p.state !== 'skipped').slice(0, MAX_ROWS);
  }
  lines.push('| phase | name | state | attempts | queue |', '| --- | --- | --- | --- | --- |');
  for (const [key, p] of shown) {
    const queue = p.separate_agent ? 'external agent' : p.task_queue;
    lines.push(`| ${key} | ${p.name} | ${p.state} | ${p.attempts} | ${queue} |`);
  }
  for (const [key, p] of shown) {
    if (!p.awaiting) continue;
    const progress = p.progress ? ` Last progress: ${p.progress.message}.` : '';
    lines.push('', `Phase ${key} awaits an agent until ${p.awaiting.deadline ?? 'whenever'}: run \`${p.awaiting.script_path}\`.${progress}`);
  }
  return lines.join('\n');
}
