import { Partitioners, type Consumer, type EachBatchPayload, type Kafka, type Producer } from 'kafkajs';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EventsRawWriter } from '@polaris/clickhouse';
import { deadLetterMessage } from '@polaris/shared/contracts';
import { inBatchSpan, type Logger } from '@polaris/shared/service';
import type { MeterStamper } from '../meters/live-meters';
import type { BatchObserver } from '../metrics/committed-batch';
import { dedupWindow, MIN_DEDUP_WINDOW_DAYS, type DedupWindow } from './dedup-window';
import { FlushBuffer, type Flush, type FlushLimits } from './flush-buffer';
import { FlushStore, NOTHING_STORED, type PartitionLetter, type StoreOutcome } from './flush-store';
import { PartitionFilters, type IdentityFilterSource } from './partition-filters';
import { PartitionProgress } from './partition-progress';

const MAX_BACKOFF_MS = 10_000;
/**
 * What the broker gathers per fetch. By default a fetch returns as soon as any byte is there:
 * bench:sink measured 2,000 events/s arriving as 54-69 batches/s of 28-35 messages. Letting the
 * broker gather up to 1 MiB (or the flush's time limit, at most 500 ms) makes fetches that fill a
 * flush in a few round trips; the flush limits (flush-buffer.ts) then decide when to store.
 */
const FETCH_MIN_BYTES = 1024 * 1024;
const FETCH_MAX_WAIT_MS = 500;
export const DEFAULT_STALL_TIMEOUT_MS = 120_000;
/** kafkajs's partitionsConsumedConcurrently when flushes gather: more than any member is assigned. */
const MAX_PARTITIONS_AT_ONCE = 64;

export interface EventsConsumerOptions {
  groupId: string;
  topic: string;
  dlqTopic: string;
  /** No commit for this long while messages are pending: the consumer counts as stalled (not ready). */
  stallTimeoutMs?: number;
  /**
   * Called once when the consumer has stopped for good (kafkajs will not restart it, or `run`
   * failed): the process should exit so that it is restarted (`ServiceContext.fail`).
   */
  onStopped?: (err: Error) => void;
  /** The clock of the stall detector; tests inject one. */
  now?: () => number;
  /**
   * Stamps each row with its live meter values right before it is inserted (docs/meters.md).
   * Unset only in tests of the consumer alone: rows are then stored unstamped (catalog revision
   * 0), which a backfill counts as "not counted live".
   */
  meters?: MeterStamper;
  /** SINK_DEDUP_WINDOW_DAYS: how long, by ingestion time, a copy of a stored event is recognised. */
  dedupWindowDays?: number;
  /** Told of each committed batch (sink-worker/src/metrics/: batch size, flush latency, rows/s). */
  onBatchCommitted?: BatchObserver;
  /** The group session: a consumer killed unannounced holds its partitions this long. Default 30 s. */
  sessionTimeoutMs?: number;
  /**
   * When to store what was read (flush-buffer.ts: SINK_FLUSH_MAX_EVENTS / _BYTES / _MS). Unset:
   * every broker batch is stored on its own before the next is read (tests of the consumer alone).
   */
  flush?: FlushLimits;
  /**
   * Where the per-partition identity filters in front of the probe are rebuilt from
   * (partition-filters.ts). Unset: every batch is probed whole (tests of the consumer alone).
   */
  identityFilters?: { source: IdentityFilterSource; refreshMs?: number };
}

/** A day: the filters forget the days that left the window at least this often. */
const FILTER_REFRESH_MS = 86_400_000;

/** Thrown to give a batch back when the partition is no longer ours; never retried. */
class PartitionLost extends Error {}

/** What a flush needs of the eachBatch call that runs it: kafkajs's session, ownership and commit. */
interface FlushOwner {
  heartbeat: () => Promise<void>;
  stillOwned: () => boolean;
  commit: (partitions: Array<{ partition: number; offset: string }>) => Promise<void>;
}

/**
 * Moves events from the broker into events_raw, exactly once per (namespace, source, id).
 *
 * Per partition batch: sort out what can never be stored, drop identities already in ClickHouse
 * (one probe), insert the rest, dead-letter whatever could not be stored, and only then commit
 * the offset. A crash anywhere before the commit replays the batch, and the "already stored?"
 * probe makes the replay a no-op.
 *
 * No message can stop the sink: a message that fails to decode, or whose handling throws, is a
 * dead letter; rows ClickHouse refuses for their data are found by splitting the insert
 * (`storeIsolating`) and dead-lettered (`store_rejected`), the rest stored. Store outages (see
 * `classifyStoreError`) and dead-letter send failures are retried with backoff for as long as
 * we own the partition: nothing is skipped.
 */
export class EventsConsumer {
  private readonly consumer: Consumer;
  private readonly dlq: Producer;
  private readonly progress: PartitionProgress;
  private joined = false;
  private crashed: Error | undefined;
  private readonly written: Counter;
  private readonly duplicates: Counter;
  private readonly conflictingDuplicates: Counter;
  private readonly dedup: DedupWindow;
  private readonly deadLettered: Counter;
  private readonly storeErrors: Counter;
  private readonly deadLetterSendErrors: Counter;
  private readonly batchSeconds: Histogram;
  private readonly screened: Counter;
  private readonly filters: PartitionFilters | undefined;
  private readonly buffer: FlushBuffer;
  private readonly flushStore: FlushStore;
  /** Bumped on every group join: a flush read in an older generation is another member's now. */
  private generation = 0;
  /** The flush running now; at most one. */
  private inFlight: Promise<void> | undefined;
  /** The shared wait for the buffer's time limit (flushWhenDue). */
  private due: Promise<void> | undefined;
  /** A flush failed: its offsets were rewound, and nothing is stored until the group is joined again. */
  private broken: Error | undefined;
  private stopping = false;
  /** Resolves when stop() begins: a retry's backoff sleep ends early on it. */
  private wakeOnStop: () => void = () => undefined;
  private readonly stopRequested = new Promise<void>((resolve) => (this.wakeOnStop = resolve));
  private lastOwner: FlushOwner | undefined;

  constructor(
    kafka: Kafka,
    private readonly writer: EventsRawWriter,
    private readonly opts: EventsConsumerOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 4 * 1024 * 1024,
      minBytes: FETCH_MIN_BYTES,
      maxWaitTimeInMs: opts.flush ? Math.min(FETCH_MAX_WAIT_MS, Math.max(50, opts.flush.maxMs)) : FETCH_MAX_WAIT_MS,
    });
    this.buffer = new FlushBuffer(opts.flush ?? { maxEvents: 1, maxBytes: 1, maxMs: 0 });
    this.dlq = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    this.dedup = dedupWindow(opts.dedupWindowDays ?? MIN_DEDUP_WINDOW_DAYS + 1);
    this.progress = new PartitionProgress(opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, opts.now);
    this.filters = opts.identityFilters
      ? new PartitionFilters(opts.identityFilters.source, this.dedup, logger.child({ part: 'identity-filters' }), { refreshMs: opts.identityFilters.refreshMs ?? FILTER_REFRESH_MS })
      : undefined;
    const registers = [registry];
    this.written = new Counter({ name: 'sink_events_written_total', help: 'Events inserted into events_raw', registers });
    this.duplicates = new Counter({ name: 'sink_duplicates_dropped_total', help: 'Copies of already known events dropped', labelNames: ['where'], registers });
    this.conflictingDuplicates = new Counter({
      name: 'sink_conflicting_duplicates_total',
      help: 'Copies of a stored identity with another payload: the first copy is kept, this one dead-lettered (conflicting_duplicate)',
      labelNames: ['where'],
      registers,
    });
    this.deadLettered = new Counter({ name: 'sink_dead_letters_total', help: 'Messages sent to the dead-letter topic, by reason', labelNames: ['reason'], registers });
    // Apart, because they call for different people: the store is ClickHouse, the dead letters go to the broker.
    this.storeErrors = new Counter({ name: 'sink_store_errors_total', help: 'Failed attempts to store a batch in ClickHouse (retried)', registers });
    this.deadLetterSendErrors = new Counter({ name: 'sink_dead_letter_send_errors_total', help: "Failed attempts to send a batch's dead letters to the dead-letter topic (retried)", registers });
    this.screened = new Counter({
      name: 'sink_probe_screened_total',
      help: 'Events screened before the "already stored?" probe: no (the partition filter rules it out, not probed), maybe (probed), unfiltered (no filter for the batch yet, probed)',
      labelNames: ['filter'],
      registers,
    });
    this.flushStore = new FlushStore({ writer, filters: this.filters, dedup: this.dedup, meters: opts.meters, screened: this.screened });
    this.batchSeconds = new Histogram({ name: 'sink_batch_seconds', help: 'Time to make one partition batch durable', registers, buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    const stalled: Gauge = new Gauge({
      name: 'sink_consumer_stalled',
      help: '1 when the consumer has stopped, or a partition has had messages pending and no commit for longer than SINK_STALL_TIMEOUT_MS',
      registers,
      collect: () => stalled.set(this.crashed || this.progress.stalled().length > 0 ? 1 : 0),
    });
    const waiting: Gauge = new Gauge({
      name: 'sink_partition_uncommitted_seconds',
      help: 'How long a partition has had messages pending without a commit (0 when caught up)',
      labelNames: ['partition'],
      registers,
      collect: () => {
        waiting.reset();
        for (const p of this.progress.waiting()) waiting.set({ partition: String(p.partition) }, p.waitingMs / 1000);
      },
    });
    const lastCommit: Gauge = new Gauge({
      name: 'sink_partition_last_commit_timestamp_seconds',
      help: 'When this consumer last committed a partition, Unix time',
      labelNames: ['partition'],
      registers,
      collect: () => {
        lastCommit.reset();
        for (const p of this.progress.waiting()) if (p.lastCommitAt !== undefined) lastCommit.set({ partition: String(p.partition) }, p.lastCommitAt / 1000);
      },
    });

    const filterSizes: Gauge = new Gauge({
      name: 'sink_identity_filter_bytes',
      help: 'Memory of the identity filter in front of the probe, per assigned partition (absent while it is rebuilt)',
      labelNames: ['partition'],
      registers,
      collect: () => {
        filterSizes.reset();
        for (const f of this.filters?.stats() ?? []) filterSizes.set({ partition: String(f.partition) }, f.bytes);
      },
    });
    const filterItems: Gauge = new Gauge({
      name: 'sink_identity_filter_identities',
      help: 'Identities the filter of each assigned partition holds (stored in the window, plus added since its rebuild)',
      labelNames: ['partition'],
      registers,
      collect: () => {
        filterItems.reset();
        for (const f of this.filters?.stats() ?? []) filterItems.set({ partition: String(f.partition) }, f.identities);
      },
    });

    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (event?: { payload?: { memberAssignment?: Record<string, number[]> } }) => {
      this.joined = true;
      this.crashed = undefined;
      // kafkajs reads from the committed offsets again: what was gathered is read again too.
      this.generation++;
      this.buffer.clear();
      this.due = undefined;
      this.broken = undefined;
      // A new assignment: partitions we kept may have been committed by someone else meanwhile.
      this.progress.reset();
      // Likewise stored: the filters are rebuilt from ClickHouse, never carried over.
      this.filters?.assigned(event?.payload?.memberAssignment?.[opts.topic] ?? []);
    });
    this.consumer.on(CRASH, ({ payload }) => {
      this.joined = false;
      logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      if (!payload.restart) this.stopped(payload.error);
    });
  }

  async start(): Promise<void> {
    await this.dlq.connect();
    await this.consumer.connect();
    // fromBeginning: a brand-new group must not skip events produced before it first joined.
    await this.consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
    try {
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // One flush gathers every assigned partition's batches: they must be handled side by
        // side (a caught-up partition waits in eachBatch for the others to join its flush).
        partitionsConsumedConcurrently: this.opts.flush ? MAX_PARTITIONS_AT_ONCE : 1,
        // One span per batch, linked to the producer trace of each message in it.
        eachBatch: (payload) => inBatchSpan('sink.batch', payload.batch.messages.map((m) => m.headers), () => this.handleBatch(payload)),
      });
    } catch (err) {
      this.stopped(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  /** Liveness: throws when the consumer has stopped for good and only a restart helps. */
  liveness(): void {
    if (this.crashed) throw new Error(`consumer stopped for good: ${this.crashed.message}`);
  }

  /** Readiness: throws with the reason when the consumer is not making progress. */
  health(): void {
    this.liveness();
    if (!this.joined) throw new Error('consumer has not joined its group yet');
    const stall = this.progress.stallReason();
    if (stall) throw new Error(stall);
  }

  /** Stores what was gathered (its offsets are committed) and leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeOnStop();
    if (this.lastOwner) await this.flushNow(this.lastOwner).catch((err: unknown) => this.logger.warn({ err }, 'final flush failed; the next owner reads it again'));
    this.filters?.stop();
    await this.consumer.disconnect();
    await this.dlq.disconnect();
  }

  private stopped(err: Error): void {
    if (this.crashed) return;
    this.crashed = err;
    this.opts.onStopped?.(err);
  }

  private async handleBatch({ batch, commitOffsetsIfNecessary, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    // Not resolved: whoever reads the partition next reads these again.
    if (this.stopping) return;
    const first = batch.firstOffset() ?? batch.messages[0]?.offset ?? batch.lastOffset();
    this.progress.seen(batch.partition, first, batch.lastOffset(), batch.highWatermark);
    this.buffer.add(batch, this.generation, { dedup: this.dedup });
    // Resolved, not committed: kafkajs reads on from here, and the commit follows the flush.
    resolveOffset(batch.lastOffset());
    const owner: FlushOwner = {
      heartbeat,
      stillOwned: () => isRunning() && !isStale(),
      commit: (partitions) => commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions }] }),
    };
    this.lastOwner = owner;
    const caughtUp = BigInt(batch.lastOffset()) + 1n >= BigInt(batch.highWatermark);
    if (!this.opts.flush || this.buffer.full || this.buffer.dueInMs() === 0) await this.flushNow(owner);
    // Nothing more waiting on this partition: wait (at most SINK_FLUSH_MAX_MS since the first
    // message gathered) for the other partitions' batches of this fetch to join the flush.
    else if (caughtUp) await this.flushWhenDue(owner);
    // else a backlog: fetch more first.
  }

  /**
   * Stores what is gathered, once any flush in flight has ended: at most one flush runs at a
   * time, and a batch that finds the buffer full waits here, so fetching waits while ClickHouse
   * is slow and the sink holds at most two buffers. Always awaited from inside eachBatch: kafkajs
   * cannot rejoin the group (and hand a partition to another member) while a flush is running.
   */
  private async flushNow(owner: FlushOwner): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    if (this.broken) throw this.broken;
    if (this.buffer.isEmpty) return;
    const flush = this.buffer.take();
    this.due = undefined;
    this.inFlight = this.runFlush(flush, owner).finally(() => {
      this.inFlight = undefined;
    });
    await this.inFlight;
  }

  /** One shared wait per buffer until its time limit, then flushNow. */
  private flushWhenDue(owner: FlushOwner): Promise<void> {
    this.due ??= new Promise<void>((resolve) => setTimeout(resolve, this.buffer.dueInMs() ?? 0)).then(() => this.flushNow(owner));
    return this.due;
  }

  private async runFlush(flush: Flush, owner: FlushOwner): Promise<void> {
    try {
      await this.storeFlush(flush, owner);
    } catch (err) {
      // Offsets of this flush (and of the buffer behind it) were resolved but not committed:
      // seek back to them, so that no retry of the fetch by kafkajs reads past events never stored.
      this.broken = err instanceof Error ? err : new Error(String(err));
      this.rewind(flush);
      throw err;
    }
  }

  /** Sends kafkajs back to the first uncommitted offset of every partition in `flush` and the buffer. */
  private rewind(flush: Flush): void {
    const from = new Map<number, { topic: string; offset: string }>();
    for (const p of [...flush.partitions, ...this.buffer.take().partitions]) {
      if (!from.has(p.partition)) from.set(p.partition, { topic: p.topic, offset: p.firstOffset });
    }
    for (const [partition, { topic, offset }] of from) {
      try {
        this.consumer.seek({ topic, partition, offset });
      } catch (err) {
        this.logger.warn({ err, partition, offset }, 'could not seek back after a failed flush; the rejoin replays from the last commit');
      }
    }
  }

  /**
   * One flush: sort out what can never be stored, drop identities already in ClickHouse (one
   * probe), insert the rest (one INSERT for every partition gathered), dead-letter whatever could
   * not be stored, and only then commit every partition's offset. A crash anywhere before the
   * commit replays the flush's messages, and the probe makes the replay a no-op.
   */
  private async storeFlush(flush: Flush, owner: FlushOwner): Promise<void> {
    const log = this.logger.child({ partitions: flush.partitions.map((p) => p.partition), messages: flush.messages });
    const generation = flush.generation;
    const stillOwned = () => owner.stillOwned() && generation === this.generation;
    const beforeAttempt = async () => {
      // Splitting a batch makes many inserts: keep the session alive, and stop if we lost it.
      await owner.heartbeat().catch((err: unknown) => log.debug({ err }, 'heartbeat failed while isolating refused rows'));
      if (!stillOwned()) throw new PartitionLost('store abandoned: partition no longer owned');
    };

    let outcome: StoreOutcome = NOTHING_STORED;
    await this.untilDone('store', this.storeErrors, log, owner.heartbeat, stillOwned, async () => {
      outcome = await this.flushStore.store(flush.partitions, beforeAttempt);
    });
    if (outcome.refused.length > 0) {
      log.warn({ refused: outcome.refused.length, inserts: outcome.attempts, offsets: outcome.refused.map((d) => d.message.offset) }, 'ClickHouse refused rows for their data; isolated them by splitting the insert');
    }

    const planned = flush.partitions.flatMap((p) => p.plan.deadLetters.map((d) => ({ ...d, partition: p.partition })));
    const deadLetters = [...planned, ...outcome.conflicts, ...outcome.refused].sort((a, b) => a.partition - b.partition || (BigInt(a.message.offset) < BigInt(b.message.offset) ? -1 : 1));
    if (deadLetters.length > 0) {
      await this.untilDone('dead-letter', this.deadLetterSendErrors, log, owner.heartbeat, stillOwned, () => this.sendDeadLetters(deadLetters));
      for (const d of deadLetters) this.deadLettered.inc({ reason: d.reason });
      log.warn({ count: deadLetters.length, reasons: deadLetters.map((d) => d.reason), offsets: deadLetters.map((d) => `${d.partition}/${d.message.offset}`) }, 'messages dead-lettered');
    }

    // Through the batch's own commit, not consumer.commitOffsets: that one silently does nothing
    // once disconnect() has begun, so on SIGTERM the batch in hand was stored but never committed
    // and the next owner replayed it (harmless, but every deploy re-read a batch per partition).
    await owner.commit(flush.partitions.map((p) => ({ partition: p.partition, offset: p.nextOffset })));
    const seconds = Number(process.hrtime.bigint() - flush.startedAt) / 1e9;
    this.batchSeconds.observe(seconds);
    this.written.inc(outcome.inserted);
    this.duplicates.inc({ where: 'store' }, outcome.known);
    this.conflictingDuplicates.inc({ where: 'store' }, outcome.conflicts.length);
    for (const p of flush.partitions) {
      this.progress.committed(p.partition, p.nextOffset);
      this.duplicates.inc({ where: 'batch' }, p.plan.duplicatesInBatch);
      this.conflictingDuplicates.inc({ where: 'batch' }, p.plan.conflictsInBatch);
      const inserted = outcome.insertedBy.get(p.partition) ?? 0;
      this.opts.onBatchCommitted?.({ partition: p.partition, messages: p.messages, inserted, committedOffset: p.nextOffset, firstMessageTimestampMs: p.firstMessageTimestampMs, seconds });
    }
    log.debug({ inserted: outcome.inserted, known: outcome.known }, 'flush stored');
  }

  private async sendDeadLetters(letters: PartitionLetter[]): Promise<void> {
    await this.dlq.send({
      topic: this.opts.dlqTopic,
      acks: -1,
      messages: letters.map(({ message, reason, detail, partition }) =>
        deadLetterMessage({ topic: this.opts.topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers, reason, detail }),
      ),
    });
  }

  /**
   * Retries `work` with capped exponential backoff while we still own the partition, counting
   * each failure in `failures`. If we lose it (rebalance, shutdown) we give up without
   * committing: the next owner replays the batch.
   */
  private async untilDone(
    what: string,
    failures: Counter,
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
        if (err instanceof PartitionLost) throw err;
        failures.inc();
        const delay = Math.min(MAX_BACKOFF_MS, 200 * 2 ** attempt);
        // Shutting down: the attempt under way was the last one. Retrying until ClickHouse is back
        // would outlive SHUTDOWN_TIMEOUT_MS; uncommitted, the batch is the next owner's to replay.
        if (this.stopping) throw new Error(`${what} abandoned: shutting down`, { cause: err });
        log.error({ err, attempt, retryInMs: delay }, `${what} failed; retrying`);
        if (!stillOwned()) throw new Error(`${what} abandoned: partition no longer owned`, { cause: err });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, delay))), this.stopRequested]);
        clearTimeout(timer);
        // A failed heartbeat means a rebalance is under way; it is not an error of its own:
        // the ownership check right after decides whether we go on or hand the batch back.
        await heartbeat().catch((hbErr: unknown) => log.debug({ err: hbErr }, 'heartbeat failed during retry'));
        if (this.stopping) throw new Error(`${what} abandoned: shutting down`, { cause: err });
        if (!stillOwned()) throw new Error(`${what} abandoned: partition no longer owned`, { cause: err });
      }
    }
  }
}
