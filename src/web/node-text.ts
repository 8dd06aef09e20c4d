/**
 * The words on a graph node, from a phase's status: shared by the server, which draws the graph, and
 * the page, which keeps the nodes current between layouts. Pure: no Node, no DOM.
 */
import { phaseCondition } from '../core/api/phase-remarks.js';
import type { PhaseStatus } from '../core/api/status.js';

/** Characters that fit on a node's first and second lines (12px and 11px sans-serif on a 210px node). */
export const TITLE_CHARS = 29;
export const SUB_CHARS = 32;

/** The node's first line: `8 · Lint check` (just the id when the name is the id). */
export function titleLine(key: string, name: string): string {
  return name === key ? key : `${key} · ${name}`;
}

export function duration(p: Pick<PhaseStatus, 'started_at' | 'finished_at'>, now = Date.now()): string {
  if (!p.started_at) return '';
  const end = p.finished_at ? Date.parse(p.finished_at) : now;
  const seconds = Math.max(0, (end - Date.parse(p.started_at)) / 1000);
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What the node's colour alone does not say: `waiting`, `paused`, `retrying`, `blocked`, or ''. */
export function nodeCondition(p: PhaseStatus, blockedBy: readonly string[] | undefined): string {
  if ((p.state === 'pending' || p.state === 'ready') && blockedBy?.length) return 'blocked';
  if (p.state !== 'running') return '';
  if (p.activity?.paused) return 'paused';
  if (p.waiting_for_workers) return 'waiting';
  if (p.activity && p.activity.attempt > 1) return 'retrying';
  return '';
}

/** The node's second line: the state and what matters about it. */
export function stateLine(p: PhaseStatus, blockedBy: readonly string[] | undefined, now = Date.now()): string {
  const state = p.state.replace('_', ' ');
  switch (p.state) {
    case 'pending':
    case 'ready':
      return blockedBy?.length ? `${state} · blocked by ${blockedBy.join(', ')}` : state;
    case 'running': {
      const condition = phaseCondition(p);
      return condition ? `${state} · ${condition}` : `${state} · ${duration(p, now)}`;
    }
    case 'failed':
      return `${state} · ${plural(p.attempts, 'attempt')}`;
    case 'completed':
      return p.reused_from ? `${state} · reused` : `${state} · ${duration(p, now)}`;
    case 'awaiting_agent': {
      const claimed = p.awaiting?.claim ? ` · claimed by ${p.awaiting.claim.agent}` : '';
      return p.progress?.percent !== undefined ? `${state}${claimed} · ${p.progress.percent}%` : `${state}${claimed}`;
    }
    default:
      return state;
  }
}

/** Cuts a line to fit `chars` characters, with an ellipsis. */
export function fit(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, Math.max(1, chars - 1))}…`;
}
