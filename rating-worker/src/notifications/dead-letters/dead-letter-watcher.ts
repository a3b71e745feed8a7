import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Pool } from '@polaris/postgres';
import type { Logger } from '@polaris/shared/service';
import type { DeadLetterMetrics } from './dead-letter-metrics';
import { originOf } from './dead-letter-origin';
import { DeadLetterWindows, type GrowingWindow } from './dead-letter-windows';
import { recordGrowingWindow } from './record-growing-window';
import { singleReaderAssigner } from './single-reader-assigner';

/** How often alerts waiting on PostgreSQL are retried and offsets of windows that closed meanwhile committed. */
const FLUSH_INTERVAL_MS = 5_000;
const START_RETRY_MS = 5_000;
/** The most stop() waits for kafkajs to leave the group (it waits out a join in progress). */
const STOP_WAIT_MS = 3_000;

export interface DeadLetterWatcherOptions {
  topic: string;
  groupId: string;
  windowMs: number;
  alertMin: number;
  /** Tests inject a clock. */
  now?: () => number;
  flushIntervalMs?: number;
}

type RecordAlert = (w: GrowingWindow) => ReturnType<typeof recordGrowingWindow>;

/**
 * Reads the dead-letter topic and records `dead_letters.growing` in an organization's outbox when
 * its dead letters in one window reach the minimum (README "Webhooks", "Dead letters growing").
 *
 * At least once, made exactly once: the alert is recorded (dedupe key per organization and
 * window) before any offset past the letters that made it is committed, and offsets are held at
 * the first letter of every window that is not over yet (dead-letter-windows.ts). A restart, a
 * rebalance or a second read of the topic counts the same windows again and records nothing new.
 * Letters naming no organization to trust are counted in a metric and logged, for no one.
 */
export class DeadLetterWatcher {
  private readonly windows: DeadLetterWindows;
  private consumer: Consumer | undefined;
  private stopped = false;
  private joined = false;
  private timer: NodeJS.Timeout | undefined;
  private retry: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  /** Flushes run one at a time (the batch's and the timer's). */
  private flushing: Promise<void> = Promise.resolve();
  private readonly committed = new Map<number, bigint>();
  private readonly record: RecordAlert;

  constructor(
    private readonly kafka: Kafka,
    pool: Pool,
    private readonly opts: DeadLetterWatcherOptions,
    private readonly logger: Logger,
    private readonly metrics: DeadLetterMetrics,
    record?: RecordAlert,
  ) {
    this.windows = new DeadLetterWindows({ windowMs: opts.windowMs, alertMin: opts.alertMin, now: opts.now });
    this.record = record ?? ((w) => recordGrowingWindow(pool, opts.topic, w));
  }

  /**
   * Joins the group and reads, in the background: a broker that is away or a topic not created
   * yet (`polaris migrate`) delays the watch, never the rating-worker. Retried until stopped.
   */
  start(): void {
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs ?? FLUSH_INTERVAL_MS);
    void this.run();
  }

  /** Readiness (not critical): this replica is in the group, reading or standing by. */
  health(): void {
    if (!this.joined) throw new Error(`dead-letter watcher has not joined group ${this.opts.groupId} on ${this.opts.topic}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.retry?.wake();
    // kafkajs's disconnect waits out a group join in progress (a SIGTERM right after start); the
    // watcher holds nothing uncommitted worth that wait, so it leaves after at most STOP_WAIT_MS
    // and the group notices at its session timeout instead.
    const left = await Promise.race([
      (this.consumer?.disconnect() ?? Promise.resolve()).then(() => true, () => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), STOP_WAIT_MS).unref()),
    ]);
    if (!left) this.logger.warn({ waitedMs: STOP_WAIT_MS }, 'dead-letter watcher did not leave its group in time; stopping without it');
    await this.flushing;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const consumer = this.kafka.consumer({
        groupId: this.opts.groupId,
        partitionAssigners: [singleReaderAssigner],
        // Restart after any failure, not only retriable ones: the watcher must not stop quietly.
        retry: { restartOnFailure: async () => true },
      });
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        this.joined = true;
        // A new assignment is read from its committed offsets again: count it from scratch.
        this.windows.reset();
        this.committed.clear();
        const partitions = e.payload.memberAssignment[this.opts.topic] ?? [];
        this.logger.info({ topic: this.opts.topic, partitions }, partitions.length > 0 ? 'dead-letter watcher reading' : 'dead-letter watcher standing by');
      });
      consumer.on(consumer.events.CRASH, (e) => {
        this.joined = false;
        this.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'dead-letter watcher crashed');
      });
      this.consumer = consumer;
      try {
        await consumer.connect();
        // From the beginning for a new group: letters older than a day are not counted anyway.
        await consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.handleBatch(payload) });
        return;
      } catch (err) {
        this.joined = false;
        await consumer.disconnect().catch(() => undefined);
        if (this.stopped) return;
        this.logger.warn({ err, topic: this.opts.topic }, `dead-letter watcher could not start; retrying in ${START_RETRY_MS / 1000} s`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, START_RETRY_MS);
          this.retry = { timer, wake: () => (clearTimeout(timer), resolve()) };
        });
      }
    }
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { partition } = batch;
    const unattributed = new Map<string, number>();
    let firstUnattributed: string | undefined;
    for (const m of batch.messages) {
      if (!isRunning() || isStale()) break;
      const offset = BigInt(m.offset);
      if (this.windows.isNew(partition, offset)) {
        const origin = originOf(m);
        if (origin.kind === 'letter') {
          this.metrics.seen(origin.reason);
          if (origin.organizationId === undefined) {
            this.metrics.unattributed(origin.reason);
            unattributed.set(origin.reason, (unattributed.get(origin.reason) ?? 0) + 1);
            firstUnattributed ??= `${partition}/${m.offset}`;
          } else {
            this.windows.count(partition, offset, origin.organizationId, origin.atMs);
          }
        }
        this.windows.passed(partition, offset);
      }
      resolveOffset(m.offset);
    }
    if (firstUnattributed !== undefined) {
      // Operators look them up with `polaris dlq show <partition>/<offset>`; no key or value is logged (tenant data).
      this.logger.warn({ topic: batch.topic, first: firstUnattributed, reasons: Object.fromEntries(unattributed) }, 'dead letters naming no organization to trust: counted for no one');
    }
    await this.flush();
    await heartbeat();
  }

  /** Records the alerts that are due, then commits what no longer needs reading again. */
  private flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow()).catch((err: unknown) => this.logger.error({ err }, 'dead-letter watcher flush failed'));
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    for (const w of this.windows.growing()) {
      try {
        const outcome = await this.record(w);
        this.metrics.alert(outcome);
        this.windows.recorded(w);
        if (outcome === 'recorded') this.logger.info({ organizationId: w.organizationId, windowStart: new Date(w.windowStart).toISOString(), count: w.count }, 'dead_letters.growing recorded');
        if (outcome === 'unknown_organization') this.logger.warn({ organizationId: w.organizationId }, 'dead letters of an organization this database does not hold: no alert');
      } catch (err) {
        // Held, with the offsets of its window, until a later flush records it.
        this.logger.warn({ err, organizationId: w.organizationId }, 'could not record dead_letters.growing; retrying');
        return;
      }
    }
    const consumer = this.consumer;
    const due = [...this.windows.commitPoints()].filter(([partition, offset]) => this.committed.get(partition) !== offset);
    if (!consumer || due.length === 0) return;
    try {
      await consumer.commitOffsets(due.map(([partition, offset]) => ({ topic: this.opts.topic, partition, offset: offset.toString() })));
      for (const [partition, offset] of due) this.committed.set(partition, offset);
    } catch (err) {
      // A rebalance under way: the next owner reads from the last commit and counts again.
      this.logger.warn({ err }, 'dead-letter watcher could not commit; will retry');
    }
  }
}
