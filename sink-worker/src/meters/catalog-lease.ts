import type { MeterDefinition } from '@polaris/shared/meters';
import { MeterCatalogSnapshot, type CatalogVersion } from './catalog-snapshot';

/** What one SyncCatalog call answers, in the sink's words. */
export interface CatalogSync {
  revision: string;
  leaseTtlMs: number;
  versions: Array<Omit<CatalogVersion, 'definition'> & { definition: MeterDefinition }>;
}

export interface CatalogLeaseOptions {
  /**
   * One MeterCatalog.SyncCatalog call (with take_lease), telling the service the oldest revision
   * still stamped on an INSERT in flight, if any: the lease must keep holding it.
   */
  sync: (holdingRevision: string | undefined) => Promise<CatalogSync>;
  /**
   * A lease is not used in its last `safetyMarginMs`: an insert started just before the deadline
   * must land before the catalog service counts the lease as gone (it adds its own grace).
   */
  safetyMarginMs: number;
  /** Monotonic milliseconds; tests inject one. */
  now?: () => number;
}

/**
 * The sink's meter catalog and its lease (docs/meters.md, "Catalog revisions, leases and
 * backfill"). A backfill of version V counts the stored events stamped with a revision below
 * V's, so a sink must never store an event stamped with an old revision after the backfill has
 * started reading. The catalog service starts a backfill only once every unexpired lease holds
 * V's revision; this class keeps the other half of that promise: no insert is stamped from a
 * lease that may have expired.
 *
 * The deadline is measured on this process's monotonic clock from when the sync was *sent*, so
 * it ends no later than the server's own expiry (which starts when the server handled it), and
 * the two clocks need not agree.
 */
export class CatalogLease {
  private snapshot: MeterCatalogSnapshot | undefined;
  private deadline = 0;
  private inFlight: Promise<MeterCatalogSnapshot> | undefined;
  /** Revisions stamped on inserts not finished yet, with how many of each. */
  private readonly held = new Map<bigint, number>();
  private readonly now: () => number;

  constructor(private readonly opts: CatalogLeaseOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  /**
   * A snapshot whose lease is valid for at least the safety margin, syncing first when it is
   * not. Throws when the catalog service cannot be reached and the lease has run out: the
   * caller retries like any store outage, so events wait in the broker, never unmetered.
   */
  async leased(): Promise<MeterCatalogSnapshot> {
    if (this.snapshot && this.now() < this.deadline - this.opts.safetyMarginMs) return this.snapshot;
    return this.refresh();
  }

  /**
   * Marks `revision` as stamped on an insert in flight until the returned release is called
   * (once the insert has succeeded or failed). Until then every sync tells the catalog service to
   * keep the lease on it: a backfill of a newer version must not start reading while an insert
   * stamped without that version may still land.
   */
  hold(revision: string): () => void {
    const r = BigInt(revision);
    this.held.set(r, (this.held.get(r) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.held.get(r) ?? 1) - 1;
      if (n === 0) this.held.delete(r);
      else this.held.set(r, n);
    };
  }

  /** The oldest revision held by an insert in flight, if any. */
  oldestHeld(): string | undefined {
    let oldest: bigint | undefined;
    for (const r of this.held.keys()) if (oldest === undefined || r < oldest) oldest = r;
    return oldest?.toString();
  }

  /** Syncs now (one call at a time; concurrent callers share it). */
  refresh(): Promise<MeterCatalogSnapshot> {
    this.inFlight ??= this.syncOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** The revision of the last snapshot, if any (for metrics and readiness). */
  revision(): string | undefined {
    return this.snapshot?.revision;
  }

  /** Whether the lease is currently usable. */
  isValid(): boolean {
    return this.snapshot !== undefined && this.now() < this.deadline - this.opts.safetyMarginMs;
  }

  private async syncOnce(): Promise<MeterCatalogSnapshot> {
    const sentAt = this.now();
    const answer = await this.opts.sync(this.oldestHeld());
    if (answer.leaseTtlMs <= this.opts.safetyMarginMs) {
      throw new Error(`catalog lease of ${answer.leaseTtlMs} ms is not longer than the sink's safety margin of ${this.opts.safetyMarginMs} ms`);
    }
    // An older answer never replaces a newer one (a slow call racing a fast one).
    if (!this.snapshot || BigInt(answer.revision) >= BigInt(this.snapshot.revision)) {
      this.snapshot = new MeterCatalogSnapshot(answer.revision, answer.versions);
    }
    this.deadline = Math.max(this.deadline, sentAt + answer.leaseTtlMs);
    return this.snapshot;
  }
}
