import { Partitioners, type Consumer, type EachBatchPayload, type Kafka, type Producer } from 'kafkajs';
import { Counter, Histogram, type Registry } from 'prom-client';
import { inBatchSpan, type Logger } from '@polaris/shared';
import { planBatch, type DeadLetter } from './batch-plan';
import type { EventsRawWriter } from './events-raw.writer';

const MAX_BACKOFF_MS = 10_000;
/**
 * Each partition batch costs one probe and one INSERT (one new part in ClickHouse), so batches
 * must not be tiny. By default a fetch returns as soon as any byte is there: bench:sink measured
 * 2,000 events/s arriving as 54-69 batches/s of 28-35 messages. Letting the broker gather up to
 * 1 MiB or 500 ms made that ~10 batches/s of 185, for at most half a second more before events
 * are queryable. A backlog still comes at once (more than 1 MiB is waiting).
 */
const FETCH_MIN_BYTES = 1024 * 1024;
const FETCH_MAX_WAIT_MS = 500;

export interface EventsConsumerOptions {
  groupId: string;
  topic: string;
  dlqTopic: string;
}

/**
 * Moves events from the broker into events_raw, exactly once per (namespace, source, id).
 *
 * Per partition batch: dead-letter what can never be stored, drop identities already in
 * ClickHouse, insert the rest, and only then commit the offset. A crash anywhere before the
 * commit replays the batch, and the "already stored?" probe makes the replay a no-op. Store
 * errors are retried with backoff for as long as we own the partition: nothing is skipped.
 */
export class EventsConsumer {
  private readonly consumer: Consumer;
  private readonly dlq: Producer;
  private joined = false;
  private crashed: Error | undefined;
  private readonly written: Counter;
  private readonly duplicates: Counter;
  private readonly deadLettered: Counter;
  private readonly storeErrors: Counter;
  private readonly batchSeconds: Histogram;

  constructor(
    kafka: Kafka,
    private readonly writer: EventsRawWriter,
    private readonly opts: EventsConsumerOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 4 * 1024 * 1024,
      minBytes: FETCH_MIN_BYTES,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
    });
    this.dlq = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    const registers = [registry];
    this.written = new Counter({ name: 'sink_events_written_total', help: 'Events inserted into events_raw', registers });
    this.duplicates = new Counter({ name: 'sink_duplicates_dropped_total', help: 'Copies of already known events dropped', labelNames: ['where'], registers });
    this.deadLettered = new Counter({ name: 'sink_dead_letters_total', help: 'Messages sent to the dead-letter topic', labelNames: ['reason'], registers });
    this.storeErrors = new Counter({ name: 'sink_store_errors_total', help: 'Failed attempts to store a batch (retried)', registers });
    this.batchSeconds = new Histogram({ name: 'sink_batch_seconds', help: 'Time to make one partition batch durable', registers, buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => {
      this.joined = true;
      this.crashed = undefined;
    });
    this.consumer.on(CRASH, ({ payload }) => {
      this.joined = false;
      if (!payload.restart) this.crashed = payload.error;
      logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
    });
  }

  async start(): Promise<void> {
    await this.dlq.connect();
    await this.consumer.connect();
    // fromBeginning: a brand-new group must not skip events produced before it first joined.
    await this.consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // One span per batch, linked to the producer trace of each message in it.
      eachBatch: (payload) => inBatchSpan('sink.batch', payload.batch.messages.map((m) => m.headers), () => this.handleBatch(payload)),
    });
  }

  /** Throws with the reason when the consumer cannot make progress. */
  health(): void {
    if (this.crashed) throw new Error(`consumer stopped: ${this.crashed.message}`);
    if (!this.joined) throw new Error('consumer has not joined its group yet');
  }

  /** Finishes the batch in hand (its offsets are committed) and leaves the group. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.dlq.disconnect();
  }

  private async handleBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    const started = process.hrtime.bigint();
    const plan = planBatch(batch.messages);
    const log = this.logger.child({ partition: batch.partition, firstOffset: batch.firstOffset(), lastOffset: batch.lastOffset() });

    if (plan.deadLetters.length > 0) {
      await this.untilDone('dead-letter', log, heartbeat, () => isRunning() && !isStale(), () => this.sendDeadLetters(batch.topic, batch.partition, plan.deadLetters));
      for (const d of plan.deadLetters) this.deadLettered.inc({ reason: d.reason });
      log.warn({ count: plan.deadLetters.length, reasons: plan.deadLetters.map((d) => d.reason) }, 'messages dead-lettered');
    }

    let inserted = 0;
    let known = 0;
    await this.untilDone('store', log, heartbeat, () => isRunning() && !isStale(), async () => {
      const existing = plan.candidates.length > 0 ? await this.writer.existing(plan.candidates.map((c) => c.row)) : new Set<string>();
      const fresh = plan.candidates.filter((c) => !existing.has(c.key));
      await this.writer.insert(fresh.map((c) => c.row));
      inserted = fresh.length;
      known = plan.candidates.length - fresh.length;
    });

    const last = batch.lastOffset();
    resolveOffset(last);
    await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
    this.written.inc(inserted);
    this.duplicates.inc({ where: 'batch' }, plan.duplicatesInBatch);
    this.duplicates.inc({ where: 'store' }, known);
    this.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    log.debug({ inserted, duplicates: plan.duplicatesInBatch + known }, 'batch stored');
  }

  private async sendDeadLetters(topic: string, partition: number, letters: DeadLetter[]): Promise<void> {
    await this.dlq.send({
      topic: this.opts.dlqTopic,
      acks: -1,
      messages: letters.map(({ message, reason, detail }) => ({
        value: message.value,
        headers: {
          ...message.headers,
          'polaris-dlq-reason': reason,
          'polaris-dlq-detail': detail.slice(0, 1_000),
          'polaris-dlq-source': `${topic}/${partition}/${message.offset}`,
        },
      })),
    });
  }

  /**
   * Retries `work` with capped exponential backoff while we still own the partition. If we lose
   * it (rebalance, shutdown) we give up without committing: the next owner replays the batch.
   */
  private async untilDone(
    what: string,
    log: Logger,
    heartbeat: () => Promise<void>,
    stillOwned: () => boolean,
    work: () => Promise<void>,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await work();
        return;
      } catch (err) {
        this.storeErrors.inc();
        const delay = Math.min(MAX_BACKOFF_MS, 200 * 2 ** attempt);
        log.error({ err, attempt, retryInMs: delay }, `${what} failed; retrying`);
        if (!stillOwned()) throw new Error(`${what} abandoned: partition no longer owned`, { cause: err });
        await new Promise((resolve) => setTimeout(resolve, delay));
        // A failed heartbeat means a rebalance is under way; it is not an error of its own:
        // the ownership check right after decides whether we go on or hand the batch back.
        await heartbeat().catch((hbErr: unknown) => log.debug({ err: hbErr }, 'heartbeat failed during retry'));
        if (!stillOwned()) throw new Error(`${what} abandoned: partition no longer owned`, { cause: err });
      }
    }
  }
}
