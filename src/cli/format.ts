/**
 * Plain-text rendering of a run's status for the terminal.
 */
import { phaseCondition, phaseRemarks, type RemarkKind } from '../core/api/phase-remarks.js';
import type { PhaseStatus, RunStatus } from '../core/api/status.js';

const STATE_MARK: Record<string, string> = {
  pending: '·',
  ready: '○',
  running: '▶',
  awaiting_agent: '⧗',
  completed: '✓',
  failed: '✗',
  skipped: '↷',
};

export function phaseDuration(p: PhaseStatus, now = Date.now()): string {
  if (!p.started_at) return '';
  const end = p.finished_at ? Date.parse(p.finished_at) : now;
  const seconds = Math.max(0, (end - Date.parse(p.started_at)) / 1000);
  return seconds < 60 ? `${seconds.toFixed(1)}s` : `${Math.floor(seconds / 60)}m${Math.round(seconds % 60)}s`;
}

export function renderStatusTable(status: RunStatus): string {
  const rows = Object.entries(status.phases).map(([key, p]) => [
    `${STATE_MARK[p.state] ?? '?'} ${key}`,
    p.name,
    phaseCondition(p) ? `${p.state} (${phaseCondition(p)})` : p.state,
    String(p.attempts),
    p.task_queue,
    phaseDuration(p),
  ]);
  const header = ['  phase', 'name', 'state', 'attempts', 'queue', 'time'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const continued = status.continued ? ` · continued as new ${status.continued.segment}×` : '';
  const lines = [`run ${status.execution_id} · plan ${status.plan} · ${status.state}${status.paused ? ' (paused)' : ''}${continued}`, line(header), ...rows.map(line)];
  for (const r of status.resets ?? []) lines.push(`reset${r.reason ? ` (${r.reason})` : ''} at ${r.at}: continues Temporal run ${r.base_run_id} from its event ${r.event_id}`);
  if (status.omitted_phases) {
    lines.push(
      `  … and ${status.omitted_phases} more phases, not shown for size (${summaryText(status)}): \`baton status ${status.execution_id} --state <state>\` (or --all) lists them; the final ${status.workdir}/execution_context.json has them all`,
    );
  }
  for (const [key, p] of Object.entries(status.phases)) {
    if (p.unrequested_dependencies?.length) {
      lines.push(`  phase ${key} waits for ${p.unrequested_dependencies.map(String).join(', ')}, which nobody has requested (auto_advance: false): request them with executePhase`);
    }
    if (p.error) lines.push(`  phase ${key} error: ${p.error}`);
    for (const remark of phaseRemarks(p, status.execution_id)) lines.push(`  phase ${key} ${remark.text}`);
  }
  if (status.held_reason && status.state === 'held') lines.push(`held: ${status.held_reason}`);
  for (const n of status.notices) lines.push(`notice: ${n}`);
  return lines.join('\n');
}

/** `3 running · 120 completed · 9,877 pending`: every phase, counted, in the order of the states. */
export function summaryText(status: RunStatus): string {
  const byState = status.summary?.by_state;
  if (!byState) return `${Object.keys(status.phases).length + (status.omitted_phases ?? 0)} phases`;
  return Object.entries(byState)
    .map(([state, n]) => `${n.toLocaleString('en-US')} ${state}`)
    .join(' · ');
}

/** One line per phase whose state changed since `previous`: what a log or CI sees. */
export function stateChanges(previous: RunStatus | undefined, current: RunStatus): string[] {
  const lines: string[] = [];
  for (const [key, p] of Object.entries(current.phases)) {
    const before = previous?.phases[key];
    if (before?.state === p.state && before.attempts === p.attempts) continue;
    // A running phase's attempts follow Temporal's once the watch reports them: its remarks say so.
    if (before?.state === 'running' && p.state === 'running' && (before.activity || p.activity)) continue;
    if (!before && p.state === 'pending') continue; // the first report lists only what has begun
    const extra = p.state === 'failed' && p.error ? `: ${p.error}` : p.state === 'completed' ? ` in ${phaseDuration(p)}` : '';
    lines.push(`phase ${key} (${p.name}) ${p.state} on ${p.task_queue}${extra}`);
  }
  lines.push(...remarkChanges(previous, current));
  // A plan too large for one status lists only some of its phases: the counts say how the rest go.
  if (current.omitted_phases && summaryText(current) !== (previous ? summaryText(previous) : '')) lines.push(`run ${current.execution_id}: ${summaryText(current)}`);
  if (previous?.state !== current.state) lines.push(`run ${current.execution_id} ${current.state}`);
  return lines;
}

/** What a log says when a remark goes while the phase still runs. */
const ENDED: Partial<Record<RemarkKind, string>> = {
  waiting: 'no longer waits for workers',
  paused: 'is no longer paused in Temporal',
  settings: 'runs with the settings the run gave it again',
};

/** For a log: what is new or gone in a running phase's remarks (waiting for workers, paused, retrying, settings). */
function remarkChanges(previous: RunStatus | undefined, current: RunStatus): string[] {
  const lines: string[] = [];
  for (const [key, p] of Object.entries(current.phases)) {
    const was = previous?.phases[key];
    const before = new Map(was ? phaseRemarks(was, current.execution_id).map((r) => [r.kind, r.text]) : []);
    const now = phaseRemarks(p, current.execution_id);
    for (const r of now) if (before.get(r.kind) !== r.text) lines.push(`phase ${key} (${p.name}) ${r.text}`);
    if (p.state !== 'running') continue;
    for (const kind of before.keys()) {
      const ended = ENDED[kind];
      if (ended && !now.some((r) => r.kind === kind)) lines.push(`phase ${key} (${p.name}) ${ended}`);
    }
  }
  return lines;
}
