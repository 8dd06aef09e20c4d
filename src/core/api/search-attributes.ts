/**
 * Search attributes that make runs findable in the Web UI's filter and with
 * `temporal workflow list --query` (e.g. `BatonAwaitingAgent = '7'`, `BatonState = 'held'`).
 * `../../workflows/temporal-dev.sh start` registers them; on other servers register them with
 * `temporal operator search-attribute create`. Runs work without them.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const BatonPlan = defineSearchAttributeKey('BatonPlan', SearchAttributeType.KEYWORD);
export const BatonState = defineSearchAttributeKey('BatonState', SearchAttributeType.KEYWORD);
export const BatonPhasesRunning = defineSearchAttributeKey('BatonPhasesRunning', SearchAttributeType.KEYWORD_LIST);
export const BatonPhasesHeld = defineSearchAttributeKey('BatonPhasesHeld', SearchAttributeType.KEYWORD_LIST);
export const BatonAwaitingAgent = defineSearchAttributeKey('BatonAwaitingAgent', SearchAttributeType.KEYWORD_LIST);

export const BATON_SEARCH_ATTRIBUTES = [BatonPlan, BatonState, BatonPhasesRunning, BatonPhasesHeld, BatonAwaitingAgent];
