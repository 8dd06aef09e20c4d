/** What the store tests share: a content hash as the store names it, and the StoreError a call must fail with. */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { StoreError } from '../../src/runner/store/index.js';

export const sha = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** The StoreError `work` rejects with (the assertion fails if it resolves, or rejects with anything else). */
export async function storeErrorOf(work: Promise<unknown>): Promise<StoreError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a StoreError').toBeInstanceOf(StoreError);
  return err as StoreError;
}
