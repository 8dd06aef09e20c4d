/**
 * Which of Baton's search attributes the namespace has registered. The workflow asks once
 * (the answer goes into history) and upserts only those: upserting an unregistered attribute
 * would fail every workflow task of the run.
 */
import { Context } from '@temporalio/activity';
import proto from '@temporalio/proto';
import { BATON_SEARCH_ATTRIBUTES } from '../core/api/search-attributes.js';

export async function registeredSearchAttributes(): Promise<string[]> {
  const ctx = Context.current();
  try {
    const response = await ctx.client.connection.operatorService.listSearchAttributes({ namespace: ctx.info.workflowNamespace ?? 'default' });
    const registered = response.customAttributes ?? {};
    // Registered with another type (an old dev database, say), an attribute is as good as absent.
    return BATON_SEARCH_ATTRIBUTES.filter((k) => registered[k.name] === proto.temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}`]).map((k) => k.name);
  } catch (err) {
    ctx.log.warn(`cannot list search attributes (${(err as Error).message}); runs will not be searchable by Baton's attributes`);
    return [];
  }
}
