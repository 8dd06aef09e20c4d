/**
 * Keeps the run's search attributes in step with its status, upserting only what changed
 * and only the attributes the namespace has registered.
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { BatonAwaitingAgent, BatonPhasesHeld, BatonPhasesRunning, BatonPlan, BatonState } from '../api/search-attributes.js';
import type { RunOverview } from './projections.js';

const MAX_LISTED = 20;

export class SearchAttributeSync {
  private last = '';

  constructor(private readonly registered: readonly string[]) {}

  sync(overview: RunOverview): void {
    if (this.registered.length === 0) return;
    // Capped: enough to find a run by a phase, without an upsert of hundreds of ids per change.
    const listed = (keys: string[]): string[] => keys.slice(0, MAX_LISTED);
    const pairs: SearchAttributeUpdatePair[] = [
      { key: BatonPlan, value: overview.plan },
      { key: BatonState, value: overview.state },
      { key: BatonPhasesRunning, value: listed(overview.running) },
      { key: BatonPhasesHeld, value: listed(overview.failed) },
      { key: BatonAwaitingAgent, value: listed(overview.awaiting_agent) },
    ].filter((pair) => this.registered.includes(pair.key.name)) as SearchAttributeUpdatePair[];
    const snapshot = JSON.stringify(pairs.map((p) => p.value));
    if (snapshot === this.last) return;
    this.last = snapshot;
    upsertSearchAttributes(pairs);
  }
}
