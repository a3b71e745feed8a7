import { Gauge, Histogram, type Registry } from 'prom-client';
import type { CommittedBatch } from './committed-batch';

/** The window of sink_rows_per_second: long enough to smooth 500 ms fetches, short enough to show a stop. */
const RATE_WINDOW_MS = 10_000;

/**
 * Throughput of the consumer from its committed batches: batch size, flush latency (how old the
 * oldest event of a batch was when it became durable) and rows per second. The time to store a
 * batch is the consumer's own sink_batch_seconds.
 */
export class BatchMetrics {
  private readonly size: Histogram;
  private readonly flushLatency: Histogram;
  private readonly processed: Gauge;
  /** (when, rows) of the batches committed within the last RATE_WINDOW_MS. */
  private recent: Array<{ at: number; rows: number }> = [];

  constructor(
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    const registers = [registry];
    this.size = new Histogram({ name: 'sink_batch_messages', help: 'Messages per committed partition batch', registers, buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000] });
    this.flushLatency = new Histogram({
      name: 'sink_flush_latency_seconds',
      help: "From the broker timestamp of a batch's oldest message to the batch's commit: how stale stored usage is",
      registers,
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    });
    this.processed = new Gauge({ name: 'sink_partition_committed_offset', help: 'The offset this consumer last committed on a partition (the next to read)', labelNames: ['partition'], registers });
    const rate: Gauge = new Gauge({
      name: 'sink_rows_per_second',
      help: `Rows inserted into events_raw per second, over the last ${RATE_WINDOW_MS / 1000} s`,
      registers,
      collect: () => rate.set(this.rowsPerSecond()),
    });
  }

  observe(batch: CommittedBatch): void {
    const now = this.now();
    this.size.observe(batch.messages);
    if (Number.isFinite(batch.firstMessageTimestampMs)) this.flushLatency.observe(Math.max(0, now - batch.firstMessageTimestampMs) / 1000);
    this.processed.set({ partition: String(batch.partition) }, Number(batch.committedOffset));
    this.recent.push({ at: now, rows: batch.inserted });
    this.forgetOld(now);
  }

  rowsPerSecond(): number {
    const now = this.now();
    this.forgetOld(now);
    return this.recent.reduce((sum, b) => sum + b.rows, 0) / (RATE_WINDOW_MS / 1000);
  }

  private forgetOld(now: number): void {
    const from = now - RATE_WINDOW_MS;
    if (this.recent.length > 0 && (this.recent[0]?.at ?? now) < from) this.recent = this.recent.filter((b) => b.at >= from);
  }
}
