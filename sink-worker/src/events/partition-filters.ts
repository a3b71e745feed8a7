import { ALL_PARTITIONS, type IdentityHash, type IdentityHashScope } from '@polaris/clickhouse';
import type { Logger } from '@polaris/shared/service';
import { probeSinceDay, type DedupWindow } from './dedup-window';
import { IdentityFilter } from './identity-filter';

const DAY_MS = 86_400_000;
const RETRY_MS = 5_000;

/** Where the filters are rebuilt from: the topic's partition count, and the stored identity hashes. */
export interface IdentityFilterSource {
  partitionCount(): Promise<number>;
  countHashes(scope: IdentityHashScope): Promise<Map<number, number>>;
  readHashes(scope: IdentityHashScope, onRow: (partition: number, high: number, low: number) => void): Promise<number>;
  countOtherLayouts(params: { sinceDay: string; partitionCount: number }): Promise<number>;
}

/** What the consumer needs of an event to screen it: its identity key and hash. */
export interface Screened {
  key: string;
  hash: IdentityHash;
  /** The partition Kafka's default partitioner gives its key under `partitionCount`. */
  home: number;
}

interface PartitionFilter {
  /** Serving: holds every identity of the partition stored since `sinceDay`. */
  current?: { filter: IdentityFilter; sinceDay: string };
  /** Identities added while a rebuild runs, replayed into the rebuilt filter. */
  pending?: IdentityHash[];
}

/**
 * The in-memory filters in front of the sink's "already stored?" probe, one per assigned
 * partition (docs/ARCHITECTURE.md, "The dedup window"). A filter holds a hash of every identity
 * stored in the window whose home partition (Kafka's default partitioner over its key) is that
 * partition, so "not in the filter" proves "not stored" for an event read from its home
 * partition, and only the rest of a batch is probed.
 *
 * Never trusted across a rebalance: every assignment rebuilds from ClickHouse (an identity stored
 * by another member meanwhile is there), and until a partition's filter is built its batches are
 * probed whole. A batch is probed whole too when it reaches further back than its filter, and
 * an event not read from its home partition is always probed (a producer with another
 * partitioner, a key that is not the identity): exactness never depends on the producers.
 * Identities the sink is about to insert are added before the insert, so an insert that failed
 * halfway still counts as "maybe stored".
 */
export class PartitionFilters {
  private generation = 0;
  private readonly filters = new Map<number, PartitionFilter>();
  /** The partition count the filters and the labels of new rows are computed with; undefined before the first rebuild. */
  partitionCount: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: IdentityFilterSource,
    private readonly dedup: DedupWindow,
    private readonly logger: Logger,
    private readonly opts: { refreshMs: number; now?: () => number },
  ) {}

  /** A new assignment: drop every filter and rebuild those of `partitions` in the background. */
  assigned(partitions: number[]): void {
    this.generation++;
    this.filters.clear();
    for (const p of partitions) this.filters.set(p, { pending: [] });
    clearInterval(this.timer);
    if (partitions.length === 0) return;
    void this.rebuild(this.generation, partitions);
    // A periodic rebuild forgets the days that left the window: memory follows the window.
    this.timer = setInterval(() => {
      for (const f of this.filters.values()) f.pending ??= [];
      void this.rebuild(this.generation, partitions);
    }, this.opts.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    this.generation++;
    clearInterval(this.timer);
  }

  /**
   * Which of `events` (read from `partition`, in a batch whose probe reads from `sinceDay`) must
   * be probed: all of them (undefined) while there is no filter for the batch; else only those
   * the filter might hold or that were read away from their home partition.
   */
  mustProbe(partition: number, sinceDay: string, events: readonly Screened[]): boolean[] | undefined {
    const current = this.filters.get(partition)?.current;
    if (!current || sinceDay < current.sinceDay) return undefined;
    return events.map((e) => e.home !== partition || current.filter.mightHold(e.hash));
  }

  /** Identities about to be inserted from `partition`: "maybe stored" from now on. */
  adding(partition: number, hashes: readonly IdentityHash[]): void {
    const f = this.filters.get(partition);
    if (!f) return;
    if (f.current) for (const h of hashes) f.current.filter.add(h);
    if (f.pending) for (const h of hashes) f.pending.push(h);
  }

  /** For logs and tests: the serving filters' sizes. */
  stats(): Array<{ partition: number; identities: number; bytes: number }> {
    return [...this.filters.entries()].flatMap(([partition, f]) => (f.current ? [{ partition, identities: f.current.filter.count, bytes: f.current.filter.bytes }] : []));
  }

  private async rebuild(generation: number, partitions: number[]): Promise<void> {
    const started = Date.now();
    try {
      const count = await this.source.partitionCount();
      if (this.partitionCount !== undefined && count !== this.partitionCount) {
        this.logger.warn({ was: this.partitionCount, now: count }, 'the events topic changed partition count: identities stored under the old count go into every filter (more probes until they leave the window)');
      }
      // One day more than a batch received now probes: the filter serves for a day before it is too short.
      const now = this.opts.now?.() ?? Date.now();
      const sinceDay = probeSinceDay(now - DAY_MS, this.dedup);
      const scope = { sinceDay, partitions, partitionCount: count };
      const counts = await this.source.countHashes(scope);
      const everywhere = counts.get(ALL_PARTITIONS) ?? 0;
      const built = new Map(partitions.map((p) => [p, new IdentityFilter((counts.get(p) ?? 0) + everywhere)]));
      const everyFilter = [...built.values()];
      const rows = await this.source.readHashes(scope, (partition, high, low) => {
        if (partition === ALL_PARTITIONS) for (const f of everyFilter) f.add({ high, low });
        else built.get(partition)?.add({ high, low });
      });
      if (generation !== this.generation) return; // reassigned meanwhile: this build is for nobody
      this.partitionCount = count;
      for (const [p, filter] of built) {
        const state = this.filters.get(p);
        if (!state) continue;
        for (const h of state.pending ?? []) filter.add(h);
        state.current = { filter, sinceDay };
        state.pending = undefined;
      }
      const otherLayouts = everywhere > 0 ? await this.source.countOtherLayouts({ sinceDay, partitionCount: count }) : 0;
      this.logger.info(
        { partitions, partitionCount: count, sinceDay, rows, inEveryFilter: everywhere, otherLayouts, bytes: this.stats().reduce((n, s) => n + s.bytes, 0), ms: Date.now() - started },
        'identity filters rebuilt',
      );
    } catch (err) {
      if (generation !== this.generation) return;
      this.logger.warn({ err, partitions, retryInMs: RETRY_MS }, 'identity filter rebuild failed; those partitions are probed whole until it succeeds');
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      if (generation === this.generation) await this.rebuild(generation, partitions);
    }
  }
}
