/**
 * The Markdown shown as the run's "current details" in the Temporal Web UI.
 */
import type { RunStatus } from './status.js';

export function renderDetails(status: RunStatus): string {
  const lines = [`**${status.plan}** · ${status.state}${status.paused ? ' (paused)' : ''}`, ''];
  if (status.held_reason) lines.push(`> ${status.held_reason}`, '');
  lines.push('| phase | name | state | attempts | queue |', '| --- | --- | --- | --- | --- |');
  for (const [key, p] of Object.entries(status.phases)) {
    lines.push(`| ${key} | ${p.name} | ${p.state} | ${p.attempts} | ${p.task_queue} |`);
  }
  return lines.join('\n');
}
