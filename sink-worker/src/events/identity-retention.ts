import { eventIdentities, type ClickHouseClient } from '@polaris/clickhouse';
import type { Logger } from '@polaris/shared/service';

const DAY_MS = 86_400_000;
const EVERY_MS = 3_600_000;

/**
 * Drops the days of event_identities_v2 (and the months of event_identity_hashes_v2 whose days
 * are all gone) that no probe or filter rebuild can read any more:
 * those older than `keepDays` (SINK_IDENTITY_RETENTION_DAYS: the dedup window, plus how long a
 * message may wait in the broker, since a batch probes from its own receipt time back, plus a
 * day for clocks). Whole partitions (ALTER TABLE … DROP PARTITION ID), hourly; several sinks
 * doing it at once is harmless. Failures are logged and retried at the next run.
 */
export class IdentityRetention {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ch: ClickHouseClient,
    private readonly keepDays: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The first ingestion day kept. */
  keptFrom(): string {
    return new Date(this.now() - this.keepDays * DAY_MS).toISOString().slice(0, 10);
  }

  async runOnce(): Promise<string[]> {
    try {
      const dropped = await eventIdentities.dropDaysBefore(this.ch, this.keptFrom());
      if (dropped.length > 0) this.logger.info({ dropped, keptFrom: this.keptFrom() }, 'dropped identity days older than SINK_IDENTITY_RETENTION_DAYS');
      return dropped;
    } catch (err) {
      this.logger.warn({ err }, 'dropping old identity days failed; retried in an hour');
      return [];
    }
  }
}
