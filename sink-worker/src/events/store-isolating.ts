/** An item the store refused on its own, with the store's error for it alone. */
export interface Refused<T> {
  item: T;
  error: unknown;
}

export interface IsolateOptions {
  /** True when the store refused the data itself (see `classifyStoreError`), not an outage. */
  isDataError: (err: unknown) => boolean;
  /** Called before each attempt after the first: heartbeat, and throw to abandon the batch. */
  beforeAttempt?: () => Promise<void>;
  /** Counts attempts (store calls), for logs and tests. */
  onAttempt?: () => void;
}

/**
 * Stores `items`, finding and leaving out the ones the store refuses for their data.
 *
 * First one call for all of them. When the store refuses that for a data reason, the set is
 * split in halves and each half is stored the same way, recursively: a half that goes through is
 * stored, a half that fails is split again, and an item that fails alone is refused (returned
 * with its own error). So the good items are all stored, each exactly once (a refused call stores
 * nothing: one batch is one insert block), and only items that fail alone are returned.
 *
 * One saving: when a set failed and its first half went through whole, the second half holds
 * what failed, so it is split at once instead of being tried whole first. Its items are still
 * each tried (no item is refused without failing alone). One bad item among n costs between
 * log2(n) + 2 and 2·log2(n) + 1 calls (5,000 items: 15 to 27); k bad items about k times that;
 * n bad items 2n − 1 at most.
 *
 * Any error that is not a data error (an outage) is thrown at once, with whatever was stored so
 * far left in place: the caller retries the batch, whose "already stored?" probe drops it.
 */
export async function storeIsolating<T>(
  items: readonly T[],
  store: (items: readonly T[]) => Promise<void>,
  opts: IsolateOptions,
): Promise<Array<Refused<T>>> {
  const refused: Array<Refused<T>> = [];
  let attempts = 0;

  const attempt = async (set: readonly T[]): Promise<unknown> => {
    if (attempts > 0) await opts.beforeAttempt?.();
    attempts++;
    opts.onAttempt?.();
    try {
      await store(set);
      return undefined;
    } catch (err) {
      if (!opts.isDataError(err)) throw err;
      return err;
    }
  };

  /** `failedWhole`: this exact set is known to fail (it needs no try of its own unless alone). */
  const run = async (set: readonly T[], failedWhole: boolean): Promise<void> => {
    if (set.length === 0) return;
    if (!failedWhole || set.length === 1) {
      const error = await attempt(set);
      if (error === undefined) return;
      if (set.length === 1) {
        refused.push({ item: set[0] as T, error });
        return;
      }
    }
    const mid = Math.ceil(set.length / 2);
    const before = refused.length;
    await run(set.slice(0, mid), false);
    const firstHalfWentThrough = refused.length === before;
    await run(set.slice(mid), firstHalfWentThrough);
  };

  await run(items, false);
  return refused;
}
