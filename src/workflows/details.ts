/**
 * The Markdown shown as the run's "current details" in the Temporal Web UI.
 */
import type { RunStatus } from './status.js';

export function renderDetails(status: RunStatus): string {
  const lines = [`**${status.plan}** · ${status.state}${status.paused ? ' (paused)' : ''}`, ''];
  if (status.held_reason) lines.push(`> ${status.held_reason}`, '');
  lines.push('| phase | name | state | attempts | queue |', '| --- | --- | --- | --- | --- |');
  for (const [key, p] of Object.entries(status.phases)) {
    const queue = p.separate_agent ? 'external agent' : p.task_queue;
    lines.push(`| ${key} | ${p.name} | ${p.state} | ${p.attempts} | ${queue} |`);
  }
  for (const [key, p] of Object.entries(status.phases)) {
    if (!p.awaiting) continue;
    const progress = p.progress ? ` Last progress: ${p.progress.message}.` : '';
    lines.push('', `Phase ${key} awaits an agent until ${p.awaiting.deadline ?? 'whenever'}: run \`${p.awaiting.script_path}\`.${progress}`);
  }
  return lines.join('\n');
}
