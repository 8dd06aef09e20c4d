/**
 * Keeps the run's search attributes in step with its status, upserting only what changed
 * and only the attributes the namespace has registered.
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { BatonAwaitingAgent, BatonPhasesHeld, BatonPhasesRunning, BatonPlan, BatonState } from './search-attributes.js';
import type { RunStatus } from './status.js';

const MAX_LISTED = 20;

export class SearchAttributeSync {
  private last = '';

  constructor(private readonly registered: readonly string[]) {}

  sync(status: RunStatus): void {
    if (this.registered.length === 0) return;
    // Capped: enough to find a run by a phase, without an upsert of hundreds of ids per change.
    const keys = (state: string): string[] =>
      Object.entries(status.phases)
        .filter(([, p]) => p.state === state)
        .map(([k]) => k)
        .slice(0, MAX_LISTED);
    const pairs: SearchAttributeUpdatePair[] = [
      { key: BatonPlan, value: status.plan },
      { key: BatonState, value: status.state },
      { key: BatonPhasesRunning, value: keys('running') },
      { key: BatonPhasesHeld, value: keys('failed') },
      { key: BatonAwaitingAgent, value: keys('awaiting_agent') },
    ].filter((pair) => this.registered.includes(pair.key.name)) as SearchAttributeUpdatePair[];
    const snapshot = JSON.stringify(pairs.map((p) => p.value));
    if (snapshot === this.last) return;
    this.last = snapshot;
    upsertSearchAttributes(pairs);
  }
}
