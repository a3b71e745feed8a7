import type { Admin, Kafka } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '@polaris/shared/service';
import { partitionLag } from './consumer-lag';

export interface ConsumerLagOptions {
  groupId: string;
  topic: string;
  intervalMs: number;
}

/**
 * Polls the broker for the sink group's lag on its topic: per partition, the high watermark minus
 * the group's committed offset. Read from the broker (kafkajs admin), not from this process, so
 * it covers every partition whoever owns it, and counts a partition whose owner died: exactly the
 * number an autoscaler on lag must see (KEDA's Kafka scaler computes the same). Every replica
 * reports the same values; aggregate with max, not sum (README, "Consumer lag").
 *
 * A poll that fails leaves the last values and counts the failure: a lag that stops updating is
 * visible through sink_consumer_lag_last_poll_timestamp_seconds, never shown as 0.
 */
export class ConsumerLagPoller {
  private readonly admin: Admin;
  private connected = false;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private readonly lag: Gauge;
  private readonly total: Gauge;
  private readonly lastPoll: Gauge;
  private readonly errors: Counter;

  constructor(
    kafka: Kafka,
    private readonly opts: ConsumerLagOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.admin = kafka.admin();
    const registers = [registry];
    this.lag = new Gauge({ name: 'sink_consumer_lag', help: "Messages of a partition the sink's group has not committed yet (high watermark - committed offset)", labelNames: ['topic', 'partition'], registers });
    this.total = new Gauge({ name: 'sink_consumer_lag_total', help: "Messages of the topic the sink's group has not committed yet, all partitions", labelNames: ['topic'], registers });
    this.lastPoll = new Gauge({ name: 'sink_consumer_lag_last_poll_timestamp_seconds', help: 'When the lag was last read from the broker, Unix time', registers });
    this.errors = new Counter({ name: 'sink_consumer_lag_poll_errors_total', help: 'Failed reads of the consumer lag from the broker', registers });
  }

  start(): void {
    const tick = () => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    if (this.connected) await this.admin.disconnect();
  }

  /** One read of the lag; exported through the gauges. Never throws. */
  async poll(): Promise<void> {
    const { topic, groupId } = this.opts;
    try {
      if (!this.connected) {
        await this.admin.connect();
        this.connected = true;
      }
      const [marks, [committed]] = await Promise.all([this.admin.fetchTopicOffsets(topic), this.admin.fetchOffsets({ groupId, topics: [topic] })]);
      const committedOf = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
      let total = 0n;
      this.lag.reset();
      for (const m of marks) {
        const lag = partitionLag({ partition: m.partition, low: m.low, high: m.high, committed: committedOf.get(m.partition) });
        total += lag;
        this.lag.set({ topic, partition: String(m.partition) }, Number(lag));
      }
      this.total.set({ topic }, Number(total));
      this.lastPoll.set(Date.now() / 1000);
    } catch (err) {
      this.errors.inc();
      this.logger.warn({ err, topic, groupId }, 'could not read the consumer lag from the broker');
    }
  }
}
