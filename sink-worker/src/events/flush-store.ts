import type { Counter } from 'prom-client';
import { identityHash, type EventsRawWriter, type IdentityHash } from '@polaris/clickhouse';
import { keyPartition } from '@polaris/shared/contracts';
import type { MeterStamper } from '../meters/live-meters';
import { conflictingDuplicate, describeError, type Candidate, type DeadLetter } from './batch-plan';
import { conflicts, probeSinceDay, type DedupWindow } from './dedup-window';
import type { PendingPartition } from './flush-buffer';
import { chunkByMonth } from './insert-chunks';
import type { PartitionFilters } from './partition-filters';
import { classifyStoreError, isDataError } from './store-error';
import { storeIsolating, type Refused } from './store-isolating';

/** A dead letter and the partition its message was read from. */
export type PartitionLetter = DeadLetter & { partition: number };

export interface StoreOutcome {
  inserted: number;
  known: number;
  refused: PartitionLetter[];
  /** Copies of stored identities with another payload: not stored, dead-lettered. */
  conflicts: PartitionLetter[];
  attempts: number;
  /** Rows inserted, per partition. */
  insertedBy: Map<number, number>;
}


/** What a flush is stored with: the writer, the filters in front of the probe, the window, the meters. */
export interface FlushStoreDeps {
  writer: EventsRawWriter;
  /** Unset: every candidate is probed. */
  filters: PartitionFilters | undefined;
  dedup: DedupWindow;
  /** Unset: rows are stored unstamped (tests of the consumer alone). */
  meters: MeterStamper | undefined;
  /** sink_probe_screened_total{filter}. */
  screened: Counter;
}

export const NOTHING_STORED: StoreOutcome = { inserted: 0, known: 0, refused: [], conflicts: [], attempts: 0, insertedBy: new Map() };

/** One flush's probe and INSERT (events.consumer.ts runs it, retries it, dead-letters and commits). */
export class FlushStore {
  constructor(private readonly deps: FlushStoreDeps) {}

  /**
   * One attempt at storing a flush's candidates: probe once, insert what is new, in one INSERT
   * for all its partitions. The probe reads event_identities_v2 over the dedup window only (from
   * the flush's earliest receipt), so its cost follows the flush and the window, not what the
   * namespace stored before. The identities are written by ClickHouse itself from the same
   * INSERT (event_identities_mv_v2): there is no second write for a crash to fall between. What
   * ClickHouse refuses for its data is isolated by splitting (the normal path is one probe and
   * one insert) and returned as dead letters; an outage is thrown, and the retry probes again, so
   * rows stored before the outage are not inserted twice.
   */
  async store(partitions: readonly PendingPartition[], beforeAttempt: () => Promise<void>): Promise<StoreOutcome> {
    const candidates = partitions.flatMap((p) => p.plan.candidates);
    if (candidates.length === 0) return { ...NOTHING_STORED, insertedBy: new Map() };
    const existing = new Map<string, string>();
    let earliest = Infinity;
    for (const c of candidates) if (c.receivedAtMs < earliest) earliest = c.receivedAtMs;
    const sinceDay = probeSinceDay(earliest, this.deps.dedup);
    const screened = partitions.map((p) => ({ partition: p.partition, candidates: p.plan.candidates, hashes: this.screen(p.partition, sinceDay, p.plan.candidates) }));
    const toProbe = screened.flatMap((s) => (s.hashes?.mustProbe ? s.candidates.filter((_, i) => s.hashes?.mustProbe?.[i]) : s.candidates));
    // The probe reads only identities, which SQL literals render safely, so it should never be
    // refused for data; if it is anyway, the same splitting finds the identity it chokes on.
    const probeRefused = await storeIsolating(
      toProbe,
      async (set) => {
        for (const [key, fingerprint] of await this.deps.writer.findStored(set.map((c) => c.row), sinceDay)) existing.set(key, fingerprint);
      },
      { isDataError, beforeAttempt },
    );
    const unprobeable = new Set(probeRefused.map((r) => r.item.key));
    const fresh = candidates.filter((c) => !existing.has(c.key) && !unprobeable.has(c.key));
    // The first copy stays; a later one with another payload is the sender's mistake, kept visible.
    const conflicting = candidates.flatMap((c) => {
      const stored = existing.get(c.key);
      return stored !== undefined && conflicts(stored, c.row.payload_fingerprint ?? '0') ? [{ ...conflictingDuplicate(c.message, c, stored), partition: c.partition }] : [];
    });
    let attempts = 0;
    const insertRefused: Array<Refused<Candidate>> = [];
    // "Maybe stored" from before the insert: one that fails halfway may have stored some rows.
    for (const s of screened) {
      const hashes = s.hashes;
      if (hashes) this.deps.filters?.adding(s.partition, s.candidates.flatMap((c, i) => (existing.has(c.key) || unprobeable.has(c.key) ? [] : [hashes.of[i] as IdentityHash])));
    }
    // Usually one chunk. With several, an outage on a later one leaves the earlier ones stored:
    // the retry's probe drops them.
    for (const unstamped of chunkByMonth(fresh, (c) => c.row.time)) {
      // Stamped per attempt, just before the insert: a lease that ran out meanwhile makes this
      // throw, and the retry stamps again with a fresh catalog.
      const stamped = this.deps.meters ? await this.deps.meters.stamp(unstamped) : { items: unstamped, release: () => undefined };
      try {
        const refused = await storeIsolating(stamped.items, (set) => this.deps.writer.insert(set.map((c) => c.row)), {
          isDataError,
          beforeAttempt,
          onAttempt: () => attempts++,
        });
        insertRefused.push(...refused);
      } finally {
        stamped.release();
      }
    }
    const refusedKeys = new Set(insertRefused.map((r) => r.item.key));
    const insertedBy = new Map<number, number>();
    for (const c of fresh) if (!refusedKeys.has(c.key)) insertedBy.set(c.partition, (insertedBy.get(c.partition) ?? 0) + 1);
    return {
      inserted: fresh.length - insertRefused.length,
      known: candidates.length - fresh.length - unprobeable.size - conflicting.length,
      refused: [...probeRefused, ...insertRefused].map(storeRejected),
      conflicts: conflicting,
      attempts,
      insertedBy,
    };
  }

  /**
   * Labels each candidate's row with its home partition (for the filters' rebuilds) and asks the
   * partition's filter which must be probed; undefined without filters. Before the first rebuild
   * has finished (partition count unknown) everything is probed and the rows go unlabelled, but
   * the hashes are still returned: what is inserted meanwhile must reach the filter being built
   * (its pending list), or a rebuild that read ClickHouse before this insert landed would rule
   * out later copies of these identities. (bench:sink caught that: a 20,000-row flush inserted
   * during a 0.4 s rebuild, and its later copies stored again.)
   */
  private screen(partition: number, sinceDay: string, candidates: Candidate[]): { of: IdentityHash[]; mustProbe: boolean[] | undefined } | undefined {
    const filters = this.deps.filters;
    if (!filters) return undefined;
    const count = filters.partitionCount;
    if (count === undefined) {
      this.deps.screened.inc({ filter: 'unfiltered' }, candidates.length);
      return { of: candidates.map((c) => identityHash(c.row.namespace, c.row.source, c.row.id)), mustProbe: undefined };
    }
    const screened = candidates.map((c) => {
      const home = keyPartition(c.key, count);
      c.row.kafka_partition = home;
      c.row.kafka_partitions = count;
      return { key: c.key, hash: identityHash(c.row.namespace, c.row.source, c.row.id), home };
    });
    const mustProbe = filters.mustProbe(partition, sinceDay, screened);
    if (!mustProbe) this.deps.screened.inc({ filter: 'unfiltered' }, candidates.length);
    else {
      const maybe = mustProbe.filter(Boolean).length;
      this.deps.screened.inc({ filter: 'maybe' }, maybe);
      this.deps.screened.inc({ filter: 'no' }, candidates.length - maybe);
    }
    return { of: screened.map((s) => s.hash), mustProbe };
  }
}

function storeRejected({ item, error }: Refused<Candidate>): PartitionLetter {
  const c = classifyStoreError(error);
  const what = c.kind === 'data' ? `ClickHouse refused the row (${c.name}, code ${c.code})` : 'ClickHouse refused the row';
  return { message: item.message, partition: item.partition, reason: 'store_rejected', detail: `${what}: ${error instanceof Error ? error.message : describeError(error)}` };
}
