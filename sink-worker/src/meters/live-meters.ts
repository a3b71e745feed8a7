import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventsRawRow } from '@polaris/clickhouse';
import { parseJsonExact } from '@polaris/shared/contracts';
import type { Logger } from '@polaris/shared/service';
import type { CatalogLease } from './catalog-lease';
import { stampMeterValues, type StampTally } from './meter-stamp';

/** What the events consumer hands over to be stamped: a row (its `data` is parsed again, exactly, only for a matching meter). */
export interface Stampable {
  row: EventsRawRow;
}

/** Stamped rows, and what to call once their insert has ended (stored or failed). */
export interface Stamped<T> {
  items: T[];
  release: () => void;
}

/**
 * The events consumer's view of live metering: stamp rows right before they are inserted, and
 * release the stamp once the insert attempt has ended, whatever its outcome.
 */
export interface MeterStamper {
  stamp<T extends Stampable>(items: readonly T[]): Promise<Stamped<T>>;
}

export interface LiveMetersOptions {
  /** How often the catalog is synced in the background, so new meters count within seconds. */
  syncIntervalMs: number;
}

/**
 * Live metering in the sink: keeps the catalog lease fresh in the background and stamps every
 * row with the values of its live meters. Stamping waits for a valid lease (see CatalogLease),
 * so while the catalog service is unreachable for longer than a lease, inserts wait too: the
 * events stay in the broker, never stored unmetered.
 */
export class LiveMeters implements MeterStamper {
  private timer: NodeJS.Timeout | undefined;
  private readonly values: Counter;
  private readonly syncErrors: Counter;

  constructor(
    private readonly lease: CatalogLease,
    private readonly opts: LiveMetersOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    const registers = [registry];
    this.values = new Counter({
      name: 'sink_meter_values_total',
      help: 'Meter values extracted live, by result (invalid: missing, not a number or out of range; counted, never as 0)',
      labelNames: ['result'],
      registers,
    });
    this.syncErrors = new Counter({ name: 'sink_meter_catalog_sync_errors_total', help: 'Failed meter catalog syncs (retried)', registers });
    const revision: Gauge = new Gauge({
      name: 'sink_meter_catalog_revision',
      help: 'The meter catalog revision this sink stamps rows with',
      registers,
      collect: () => revision.set(Number(this.lease.revision() ?? 0)),
    });
  }

  /** First sync (so the first batch need not wait), then a background sync every interval. */
  async start(): Promise<void> {
    await this.syncInBackground();
    this.timer = setInterval(() => void this.syncInBackground(), this.opts.syncIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Readiness: the sink can store events only while it holds a lease. */
  health(): void {
    if (!this.lease.isValid()) throw new Error('no valid meter catalog lease (is the rating-worker reachable?)');
  }

  async stamp<T extends Stampable>(items: readonly T[]): Promise<Stamped<T>> {
    const snapshot = await this.lease.leased();
    // Held until the insert ends: the lease keeps this revision meanwhile (CatalogLease.hold).
    const release = this.lease.hold(snapshot.revision);
    const tally: StampTally = { valid: 0, invalid: 0 };
    try {
      const stamped = items.map((item) => ({ ...item, row: stampMeterValues(item.row, () => parseJsonExact(item.row.data), snapshot, tally) }));
      this.values.inc({ result: 'valid' }, tally.valid);
      this.values.inc({ result: 'invalid' }, tally.invalid);
      return { items: stamped, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  private async syncInBackground(): Promise<void> {
    try {
      await this.lease.refresh();
    } catch (err) {
      this.syncErrors.inc();
      this.logger.warn({ err }, 'meter catalog sync failed; stamping waits for a valid lease');
    }
  }
}
