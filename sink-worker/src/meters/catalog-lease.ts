import type { MeterDefinition } from '@polaris/shared/meters';
import { MeterCatalogSnapshot, type CatalogVersion } from './catalog-snapshot';

/** What one SyncCatalog call answers, in the sink's words. */
export interface CatalogSync {
  revision: string;
  leaseTtlMs: number;
  versions: Array<Omit<CatalogVersion, 'definition'> & { definition: MeterDefinition }>;
}

export interface CatalogLeaseOptions {
  /** One MeterCatalog.SyncCatalog call (with take_lease). */
  sync: () => Promise<CatalogSync>;
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
    const answer = await this.opts.sync();
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
