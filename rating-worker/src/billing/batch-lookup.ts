import { PolarisError } from '@polaris/shared/errors';

/** The most ids one batch lookup answers: a page of the largest list (the gateway's `first` limit). */
export const MAX_BATCH_IDS = 200;

/**
 * The distinct ids of a batch lookup, for one set-based read (`… = ANY($2)` inside withOrg, in the
 * repositories' getMany): the read answers those found, and an id that is not found (or is another
 * organization's, which row-level security hides the same way) is simply left out, so the caller
 * tells "missing" from "failed" per id. More than MAX_BATCH_IDS distinct ids is invalid_argument
 * naming `field`.
 */
export function batchIds(ids: readonly string[], field: string): string[] {
  const distinct = [...new Set(ids)];
  if (distinct.length > MAX_BATCH_IDS) {
    throw new PolarisError('invalid_argument', 'too_many_ids', `at most ${MAX_BATCH_IDS} distinct ids per call, got ${distinct.length}`, field);
  }
  return distinct;
}
