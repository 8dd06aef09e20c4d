/**
 * What to say about a running phase beyond its state, wherever a phase's state is shown (the Web
 * UI's current details, `baton status`, `baton run` and `baton watch`): it waits for workers, its
 * activity is paused in Temporal, it retries, its settings were changed. From the status alone,
 * so the workflow and the CLI say the same.
 */
import type { PhaseStatus } from './status.js';

export type RemarkKind = 'waiting' | 'paused' | 'retrying' | 'settings';

export interface Remark {
  kind: RemarkKind;
  /** A sentence with the phase as its subject ("waits for workers: …"). */
  text: string;
}

/**
 * How a remark words what it quotes: plain for a terminal; the Web UI's details pass Markdown
 * escapes, so a pause reason or a failure shows as written.
 */
export interface RemarkFormat {
  /** Words someone else wrote (a reason, an error, a queue's state). */
  text(value: string): string;
  /** A command or an id to copy. */
  code(value: string): string;
}

const PLAIN: RemarkFormat = { text: (value) => value, code: (value) => `\`${value}\`` };

function attemptOf(a: NonNullable<PhaseStatus['activity']>): string {
  return a.maximum_attempts > 0 ? `${a.attempt} of ${a.maximum_attempts}` : `${a.attempt} (no limit)`;
}

/** A few words for the state column: `paused in Temporal`, `waiting for workers`, `attempt 5 of 9`, …; empty when there is nothing to add. */
export function phaseCondition(p: PhaseStatus): string {
  // An agent's claim on a phase awaiting one (the agent inbox): who holds it, until when.
  const claim = p.state === 'awaiting_agent' ? p.awaiting?.claim : undefined;
  if (claim) return `claimed by ${claim.agent} until ${claim.expires_at}`;
  if (p.state !== 'running') return '';
  const a = p.activity;
  const words: string[] = [];
  if (a?.paused) words.push('paused in Temporal');
  else if (p.waiting_for_workers) words.push('waiting for workers');
  else if (a?.next_attempt_at) words.push(`retrying: attempt ${attemptOf(a)}`);
  else if (a && a.attempt > 1) words.push(`attempt ${attemptOf(a)}`);
  if (a?.changed?.length) words.push('settings changed');
  return words.join(', ');
}

/** The phase's remarks, for a running phase; none otherwise. `runId` makes the commands runnable. */
export function phaseRemarks(p: PhaseStatus, runId: string, fmt: RemarkFormat = PLAIN): Remark[] {
  if (p.state !== 'running') return [];
  const remarks: Remark[] = [];
  const a = p.activity;
  const t = fmt.text;
  if (p.waiting_for_workers) remarks.push({ kind: 'waiting', text: `waits for workers: ${t(p.waiting_for_workers)}` });
  if (a?.paused) {
    const who = [a.paused.by ? `by ${t(a.paused.by)}` : '', a.paused.reason ? `"${t(a.paused.reason)}"` : '', a.paused.rule ? `rule ${t(a.paused.rule)}` : ''].filter(Boolean).join(', ');
    const since = a.paused.at ? ` since ${t(a.paused.at)}` : '';
    const unpause = `no attempt starts until it is unpaused (${fmt.code(`temporal activity unpause --workflow-id ${runId} --activity-id ${a.id}`)}, or the Web UI's Pending Activities)`;
    remarks.push({
      kind: 'paused',
      text:
        a.state === 'pause_requested'
          ? `is to be paused in Temporal${who ? ` (${who})` : ''} once its running attempt (${attemptOf(a)}) ends; then ${unpause}`
          : `is paused in Temporal${who ? ` (${who})` : ''}${since}, at attempt ${attemptOf(a)}: ${unpause}`,
    });
  }
  if (a && a.attempt > 1) {
    const due = a.next_attempt_at && !a.paused ? `, due at ${t(a.next_attempt_at)}` : '';
    const last = a.last_failure ? `; the last failed: ${t(a.last_failure)}` : '';
    remarks.push({ kind: 'retrying', text: `is on attempt ${attemptOf(a)}${due}${last}` });
  }
  if (a?.settings && a.changed?.length) {
    const values = a.changed.map((key) => `${t(key)} ${t(String(a.settings![key as keyof typeof a.settings]))}`).join(', ');
    remarks.push({ kind: 'settings', text: `runs with settings changed in Temporal: ${values}` });
  }
  return remarks;
}
