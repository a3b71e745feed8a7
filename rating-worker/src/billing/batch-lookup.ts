import { PolarisError } from '@polaris/shared/errors';

/** The most ids one batch lookup answers: a page of the largest list (the gateway's `first` limit). */
export const MAX_BATCH_IDS = 200;

/**
 * Looks up each distinct id with `get`, one after another on the caller's transaction (one
 * connection, one round trip per id, no pool pressure), and answers those found: an id that is
 * not found (or is another organization's, which row-level security hides the same way) is left
 * out, so the caller tells "missing" from "failed" per id. Any other failure fails the batch.
 * More than MAX_BATCH_IDS distinct ids is invalid_argument naming `field`.
 */
export async function lookUpEach<T>(ids: readonly string[], field: string, get: (id: string) => Promise<T>): Promise<T[]> {
  const distinct = [...new Set(ids)];
  if (distinct.length > MAX_BATCH_IDS) {
    throw new PolarisError('invalid_argument', 'too_many_ids', `at most ${MAX_BATCH_IDS} distinct ids per call, got ${distinct.length}`, field);
  }
  const found: T[] = [];
  for (const id of distinct) {
    try {
      found.push(await get(id));
    } catch (error) {
      if (error instanceof PolarisError && error.kind === 'not_found') continue;
      throw error;
    }
  }
  return found;
}
