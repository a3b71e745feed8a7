import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { Counter, Histogram, type Registry } from 'prom-client';
import { PolarisError } from '@polaris/shared/errors';
import { encodeEventMessage, eventMessageKey, type NormalizedEvent } from '@polaris/shared/contracts';
import { type Logger } from '@polaris/shared/service';
import { pingKafka } from '@polaris/shared/kafka';
import { context, propagation } from '@opentelemetry/api';
import { KeyHashPartitioner } from './key-partitioner';
import { halves, isTooLarge, sizedMessage, sliceBytes, sliceCount, takeBatch, type PendingRequest, type Slice } from './produce-batch';

export interface PublisherOptions {
  topic: string;
  lingerMs: number;
  maxBatch: number;
  timeoutMs: number;
  /**
   * Past this many messages waiting for the broker (gathered, or in a send not yet acknowledged)
   * new publishes are refused at once (backpressure): through an outage memory stays bounded.
   */
  maxQueued?: number;
  /**
   * The most encoded bytes one produce request carries. The broker refuses a partition's record
   * batch over the topic's max.message.bytes, and with it that partition's part of the produce
   * request; every client request with a message in it then failed, whoever sent it. Keep this at
   * or under that limit (default just under the broker's default of 1 MiB).
   */
  maxBatchBytes?: number;
  /** The most encoded bytes of one publish call (one client request): above it, 413 encoded_too_large. */
  maxRequestBytes?: number;
  /** Codec of each record batch (default none); the byte limits above count bytes before compression. */
  compression?: 'gzip' | 'none';
}

/**
 * Produces events to the broker and resolves only once the broker has acknowledged them on all
 * in-sync replicas (acks=-1): a 202 from the collector means the event is durable.
 *
 * kafkajs sends one produce request per `send`, so we batch ourselves (up to `maxBatch`
 * messages), like a group commit: when no send is in flight, what has arrived goes at once (on
 * the next turn of the event loop); while one is, arrivals gather until it is acknowledged, or
 * for at most `lingerMs`. A fixed linger made every request wait it out even with the broker
 * idle: bench:ingest measured ~4,600 events/s at 6.5 ms p50 for single-event requests with 32
 * in flight and a 5 ms linger (~12,000/s at 2 ms without it), against 13,000-17,000/s for a raw
 * producer.
 *
 * Produce requests are sized by encoded bytes too (maxBatchBytes), cutting between messages where
 * needed, and a produce request the broker still refuses as too large is split in halves and
 * retried: one tenant's oversized request cannot fail the other requests that share its produce
 * request. A single message the broker refuses fails its own request only (413 event_too_large).
 *
 * Compression (PUBLISH_COMPRESSION) is off by default: CPU is what a collector runs out of, and
 * gzip, the one codec kafkajs and so the sink-worker decode without a plug-in, costs plenty of it.
 * On bench:ingest's events it shrinks what the broker stores and replicates ~14x (335 bytes an
 * event to 20-25), but adds 3.5 µs of collector CPU per event (+26%) with 100-event requests,
 * and 57 µs (+50%) with 1-event requests, whose produce requests of ~10 events each pay zlib's
 * setup; the broker spends no less (README, Throughput and compression). lz4 and zstd would be
 * cheaper, but kafkajs's codecs for them wrap unmaintained native modules, Node's own zstd is
 * still experimental, and every consumer of the topic would need the codec too.
 */
export class EventPublisher {
  private readonly producer: Producer;
  private queue: PendingRequest[] = [];
  /** Messages gathered and not yet taken into a send, and their encoded bytes. */
  private queued = 0;
  private queuedBytes = 0;
  /** Messages in sends the broker has not answered yet; they hold memory as much as queued ones. */
  private sending = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private connecting: Promise<void> | undefined;
  private connected = false;
  /** The last produce failed and none has succeeded since: the broker is, for us, down. */
  private lastSendFailed = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sendSeconds: Histogram;
  private readonly produced: Counter;
  private readonly tooLargeSplits: Counter;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: PublisherOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.producer = kafka.producer({
      // kafkajs's DefaultPartitioner with a far cheaper hash (key-partitioner.ts): same partitions.
      createPartitioner: KeyHashPartitioner,
      allowAutoTopicCreation: false,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    this.producer.on('producer.disconnect', () => {
      this.connected = false;
    });
    this.sendSeconds = new Histogram({
      name: 'collector_broker_send_seconds',
      help: 'Time for the broker to acknowledge one produce request',
      labelNames: ['outcome'],
      registers: [registry],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    });
    this.produced = new Counter({
      name: 'collector_events_produced_total',
      help: 'Events acknowledged by the broker',
      registers: [registry],
    });
    this.tooLargeSplits = new Counter({
      name: 'collector_produce_too_large_splits_total',
      help: 'Produce requests the broker refused as too large, split in halves and retried (raise PUBLISH_MAX_BATCH_BYTES no higher than the topic allows)',
      registers: [registry],
    });
  }

  /** Connects in the background; the collector starts (not ready) even when the broker is down. */
  start(): void {
    void this.ensureConnected().catch((err: unknown) => this.logger.warn({ err }, 'broker not reachable yet'));
  }

  /**
   * Readiness: throws, saying why, when events cannot currently reach the broker. After a failed
   * produce it asks the broker directly, so a pod taken out of rotation (and so receiving no
   * traffic to prove itself with) comes back once the broker does.
   */
  async health(): Promise<void> {
    if (!this.connected) throw new Error('producer is not connected to the broker');
    if (!this.lastSendFailed) return;
    try {
      await pingKafka(this.kafka);
    } catch (err) {
      throw new Error(`the last produce request failed and the broker does not answer: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    this.lastSendFailed = false;
  }

  private get compression(): CompressionTypes {
    return this.opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  private get maxBatchBytes(): number {
    return this.opts.maxBatchBytes ?? 1_000_000;
  }

  async publish(namespace: string, events: NormalizedEvent[], receivedAt: number): Promise<void> {
    const maxQueued = this.opts.maxQueued ?? 50_000;
    if (this.queued + this.sending + events.length > maxQueued) {
      throw new PolarisError('unavailable', 'overloaded', 'too many events waiting for the broker; retry with backoff');
    }
    const headers: Record<string, string> = {};
    propagation.inject(context.active(), headers);
    // Sized as encoded, not as received: re-serialized numbers can grow (`1e20` is 21 characters
    // once parsed and written back), so a 1 MiB body once encoded to 4.6 MB.
    const messages = events.map((ev) => sizedMessage({ key: eventMessageKey(namespace, ev), value: encodeEventMessage(namespace, ev, receivedAt), headers }));
    let bytes = 0;
    for (const [i, m] of messages.entries()) {
      if (m.bytes > this.maxBatchBytes) {
        throw new PolarisError(
          'payload_too_large',
          'event_too_large',
          `event [${i}] encodes to ${m.bytes} bytes for the broker, more than one produce request may carry (PUBLISH_MAX_BATCH_BYTES=${this.maxBatchBytes}); make its data smaller`,
          `[${i}].data`,
        );
      }
      bytes += m.bytes;
    }
    const maxRequestBytes = this.opts.maxRequestBytes ?? Number.POSITIVE_INFINITY;
    if (bytes > maxRequestBytes) {
      throw new PolarisError(
        'payload_too_large',
        'encoded_too_large',
        `the events of this request encode to ${bytes} bytes for the broker, more than the ${maxRequestBytes} allowed per request (MAX_ENCODED_BYTES_PER_REQUEST); send fewer events per request`,
        'body',
      );
    }
    const acked = new Promise<void>((resolve, reject) => {
      this.queue.push({ messages, next: 0, unacked: messages.length, settled: false, resolve, reject });
      this.queued += messages.length;
      this.queuedBytes += bytes;
    });
    this.schedule();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new PolarisError(
              'unavailable',
              'broker_unavailable',
              `the event broker did not acknowledge within ${this.opts.timeoutMs} ms; nothing is lost by retrying (events are deduplicated by source and id)`,
            ),
          ),
        this.opts.timeoutMs,
      );
    });
    try {
      await Promise.race([acked, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends whatever is queued and waits for every send in flight. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    while (this.queue.length > 0) this.flush();
    await Promise.allSettled([...this.inFlight]);
    await this.producer.disconnect();
  }

  private schedule(): void {
    if (this.queued >= this.opts.maxBatch || this.queuedBytes >= this.maxBatchBytes) {
      this.flush();
      return;
    }
    if (this.inFlight.size === 0) {
      // The broker is idle: waiting would only add latency. setImmediate still gathers every
      // request that arrived in the same turn of the event loop.
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.flush();
      });
      return;
    }
    // A send is in flight: gather until it completes (see flush) or the linger runs out.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.opts.lingerMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    clearImmediate(this.immediate);
    this.immediate = undefined;
    const batch = takeBatch(this.queue, this.opts.maxBatch, this.maxBatchBytes);
    const size = sliceCount(batch);
    this.queued -= size;
    this.queuedBytes -= sliceBytes(batch);
    if (batch.length === 0) return;
    this.sending += size;
    const send = this.send(batch).finally(() => {
      this.sending -= size;
      this.inFlight.delete(send);
      // One send done, one may start: what gathered meanwhile goes now instead of lingering.
      if (this.queue.length > 0) this.flush();
    });
    this.inFlight.add(send);
    if (this.queue.length > 0) this.schedule();
  }

  private async send(batch: Slice[]): Promise<void> {
    const started = process.hrtime.bigint();
    const messages = batch.flatMap((s) => s.messages.map((m) => m.message));
    try {
      await this.ensureConnected();
      await this.producer.send({ topic: this.opts.topic, acks: -1, compression: this.compression, messages });
      this.sendSeconds.observe({ outcome: 'ok' }, Number(process.hrtime.bigint() - started) / 1e9);
      this.produced.inc(messages.length);
      this.lastSendFailed = false;
      for (const s of batch) {
        s.request.unacked -= s.messages.length;
        if (s.request.unacked === 0) settle(s.request);
      }
    } catch (err) {
      this.sendSeconds.observe({ outcome: 'error' }, Number(process.hrtime.bigint() - started) / 1e9);
      if (isTooLarge(err)) return this.splitTooLarge(batch, err);
      this.lastSendFailed = true;
      this.logger.warn({ err, messages: messages.length }, 'produce failed');
      const failure = new PolarisError('unavailable', 'broker_unavailable', 'the event broker is unavailable; retry with backoff');
      for (const s of batch) settle(s.request, failure);
    }
  }

  /**
   * The broker refused `batch` for its size (one partition's part was over the topic's limit): the
   * broker is fine, the batch was not. Halves are retried until each fits; a message refused alone
   * fails its own request. Partitions of a refused produce request that the broker did take are
   * sent again with their half: the sink stores each identity once, so a copy costs nothing.
   */
  private async splitTooLarge(batch: Slice[], err: unknown): Promise<void> {
    if (sliceCount(batch) === 1) {
      const [only] = batch;
      const bytes = only?.messages[0]?.bytes ?? 0;
      this.logger.warn({ err, bytes }, 'the broker refused one message as too large');
      if (only) {
        const index = only.request.messages.indexOf(only.messages[0] as (typeof only.messages)[number]);
        settle(
          only.request,
          new PolarisError(
            'payload_too_large',
            'event_too_large',
            `event [${index}] encodes to ${bytes} bytes, more than the broker accepts in one message (the topic's max.message.bytes); make its data smaller`,
            `[${index}].data`,
          ),
        );
      }
      return;
    }
    this.tooLargeSplits.inc();
    this.logger.warn({ messages: sliceCount(batch), bytes: sliceBytes(batch) }, 'the broker refused a produce request as too large; splitting it');
    const [first, second] = halves(batch);
    // One after the other: the halves of one request keep their order on each partition.
    await this.send(first);
    await this.send(second);
  }

  private ensureConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    this.connecting ??= this.producer.connect().then(
      () => {
        this.connected = true;
        this.connecting = undefined;
      },
      (err: unknown) => {
        this.connecting = undefined;
        throw err;
      },
    );
    return this.connecting;
  }
}

/** Ends a request's wait: resolved once every message is acknowledged, or rejected at its first failure. */
function settle(request: PendingRequest, failure?: unknown): void {
  if (request.settled) return;
  request.settled = true;
  if (failure === undefined) request.resolve();
  else request.reject(failure);
}
