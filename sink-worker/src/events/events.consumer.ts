import { Partitioners, type Consumer, type EachBatchPayload, type Kafka, type Producer } from 'kafkajs';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { identityHash, type EventsRawWriter, type IdentityHash } from '@polaris/clickhouse';
import { deadLetterMessage, keyPartition } from '@polaris/shared/contracts';
import { inBatchSpan, type Logger } from '@polaris/shared/service';
import type { MeterStamper } from '../meters/live-meters';
import type { BatchObserver } from '../metrics/committed-batch';
import { conflictingDuplicate, describeError, planBatch, type Candidate, type DeadLetter } from './batch-plan';
import { conflicts, dedupWindow, MIN_DEDUP_WINDOW_DAYS, probeSinceDay, type DedupWindow } from './dedup-window';
import { chunkByMonth } from './insert-chunks';
import { PartitionFilters, type IdentityFilterSource } from './partition-filters';
import { PartitionProgress } from './partition-progress';
import { classifyStoreError, isDataError } from './store-error';
import { storeIsolating, type Refused } from './store-isolating';

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
export const DEFAULT_STALL_TIMEOUT_MS = 120_000;

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
   * Where the per-partition identity filters in front of the probe are rebuilt from
   * (partition-filters.ts). Unset: every batch is probed whole (tests of the consumer alone).
   */
  identityFilters?: { source: IdentityFilterSource; refreshMs?: number };
}

/** A day: the filters forget the days that left the window at least this often. */
const FILTER_REFRESH_MS = 86_400_000;

/** Thrown to give a batch back when the partition is no longer ours; never retried. */
class PartitionLost extends Error {}

interface StoreOutcome {
  inserted: number;
  known: number;
  refused: DeadLetter[];
  /** Copies of stored identities with another payload: not stored, dead-lettered. */
  conflicts: DeadLetter[];
  attempts: number;
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
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
    });
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

  /** Finishes the batch in hand (its offsets are committed) and leaves the group. */
  async stop(): Promise<void> {
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
    const started = process.hrtime.bigint();
    const first = batch.firstOffset() ?? batch.messages[0]?.offset ?? batch.lastOffset();
    this.progress.seen(batch.partition, first, batch.lastOffset(), batch.highWatermark);
    const plan = planBatch(batch.messages, { dedup: this.dedup });
    const log = this.logger.child({ partition: batch.partition, firstOffset: first, lastOffset: batch.lastOffset() });
    const stillOwned = () => isRunning() && !isStale();
    const beforeAttempt = async () => {
      // Splitting a batch makes many inserts: keep the session alive, and stop if we lost it.
      await heartbeat().catch((err: unknown) => log.debug({ err }, 'heartbeat failed while isolating refused rows'));
      if (!stillOwned()) throw new PartitionLost('store abandoned: partition no longer owned');
    };

    let outcome: StoreOutcome = { inserted: 0, known: 0, refused: [], conflicts: [], attempts: 0 };
    await this.untilDone('store', this.storeErrors, log, heartbeat, stillOwned, async () => {
      outcome = await this.store(batch.partition, plan.candidates, beforeAttempt);
    });
    if (outcome.refused.length > 0) {
      log.warn({ refused: outcome.refused.length, inserts: outcome.attempts, offsets: outcome.refused.map((d) => d.message.offset) }, 'ClickHouse refused rows for their data; isolated them by splitting the insert');
    }

    const deadLetters = [...plan.deadLetters, ...outcome.conflicts, ...outcome.refused].sort((a, b) => (BigInt(a.message.offset) < BigInt(b.message.offset) ? -1 : 1));
    if (deadLetters.length > 0) {
      await this.untilDone('dead-letter', this.deadLetterSendErrors, log, heartbeat, stillOwned, () => this.sendDeadLetters(batch.topic, batch.partition, deadLetters));
      for (const d of deadLetters) this.deadLettered.inc({ reason: d.reason });
      log.warn({ count: deadLetters.length, reasons: deadLetters.map((d) => d.reason), offsets: deadLetters.map((d) => d.message.offset) }, 'messages dead-lettered');
    }

    const last = batch.lastOffset();
    const next = (BigInt(last) + 1n).toString();
    resolveOffset(last);
    // Through the batch's own commit, not consumer.commitOffsets: that one silently does nothing
    // once disconnect() has begun, so on SIGTERM the batch in hand was stored but never committed
    // and the next owner replayed it (harmless, but every deploy re-read a batch per partition).
    await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
    this.progress.committed(batch.partition, next);
    this.written.inc(outcome.inserted);
    this.duplicates.inc({ where: 'batch' }, plan.duplicatesInBatch);
    this.duplicates.inc({ where: 'store' }, outcome.known);
    this.conflictingDuplicates.inc({ where: 'batch' }, plan.conflictsInBatch);
    this.conflictingDuplicates.inc({ where: 'store' }, outcome.conflicts.length);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.batchSeconds.observe(seconds);
    const oldest = Number(batch.messages[0]?.timestamp);
    this.opts.onBatchCommitted?.({ partition: batch.partition, messages: batch.messages.length, inserted: outcome.inserted, committedOffset: next, firstMessageTimestampMs: oldest, seconds });
    log.debug({ inserted: outcome.inserted, duplicates: plan.duplicatesInBatch + outcome.known }, 'batch stored');
  }

  /**
   * One attempt at storing a batch's candidates: probe once, insert what is new. The probe reads
   * event_identities_v2 over the dedup window only (from the batch's earliest receipt), so its
   * cost follows the batch and the window, not what the namespace stored before. The identities
   * are written by ClickHouse itself from the same INSERT (event_identities_mv_v2): there is no
   * second write for a crash to fall between. What ClickHouse
   * refuses for its data is isolated by splitting (the normal path is one probe and one insert)
   * and returned as dead letters; an outage is thrown, and the retry probes again, so rows
   * stored before the outage are not inserted twice.
   */
  private async store(partition: number, candidates: Candidate[], beforeAttempt: () => Promise<void>): Promise<StoreOutcome> {
    if (candidates.length === 0) return { inserted: 0, known: 0, refused: [], conflicts: [], attempts: 0 };
    const existing = new Map<string, string>();
    const sinceDay = probeSinceDay(candidates.reduce((min, c) => Math.min(min, c.receivedAtMs), Infinity), this.dedup);
    const hashes = this.screen(partition, sinceDay, candidates);
    const toProbe = hashes?.mustProbe ? candidates.filter((_, i) => hashes.mustProbe?.[i]) : candidates;
    // The probe reads only identities, which SQL literals render safely, so it should never be
    // refused for data; if it is anyway, the same splitting finds the identity it chokes on.
    const probeRefused = await storeIsolating(
      toProbe,
      async (set) => {
        for (const [key, fingerprint] of await this.writer.findStored(set.map((c) => c.row), sinceDay)) existing.set(key, fingerprint);
      },
      { isDataError, beforeAttempt },
    );
    const unprobeable = new Set(probeRefused.map((r) => r.item.key));
    const fresh = candidates.filter((c) => !existing.has(c.key) && !unprobeable.has(c.key));
    // The first copy stays; a later one with another payload is the sender's mistake, kept visible.
    const conflicting = candidates.flatMap((c) => {
      const stored = existing.get(c.key);
      return stored !== undefined && conflicts(stored, c.row.payload_fingerprint ?? '0') ? [conflictingDuplicate(c.message, c, stored)] : [];
    });
    let attempts = 0;
    const insertRefused: Array<Refused<Candidate>> = [];
    // "Maybe stored" from before the insert: one that fails halfway may have stored some rows.
    if (hashes) this.filters?.adding(partition, candidates.flatMap((c, i) => (existing.has(c.key) || unprobeable.has(c.key) ? [] : [hashes.of[i] as IdentityHash])));
    // Usually one chunk. With several, an outage on a later one leaves the earlier ones stored:
    // the retry's probe drops them.
    for (const unstamped of chunkByMonth(fresh, (c) => c.row.time)) {
      // Stamped per attempt, just before the insert: a lease that ran out meanwhile makes this
      // throw, and the retry stamps again with a fresh catalog.
      const stamped = this.opts.meters ? await this.opts.meters.stamp(unstamped) : { items: unstamped, release: () => undefined };
      try {
        const refused = await storeIsolating(stamped.items, (set) => this.writer.insert(set.map((c) => c.row)), {
          isDataError,
          beforeAttempt,
          onAttempt: () => attempts++,
        });
        insertRefused.push(...refused);
      } finally {
        stamped.release();
      }
    }
    return {
      inserted: fresh.length - insertRefused.length,
      known: candidates.length - fresh.length - unprobeable.size - conflicting.length,
      refused: [...probeRefused, ...insertRefused].map(storeRejected),
      conflicts: conflicting,
      attempts,
    };
  }

  /**
   * Labels each candidate's row with its home partition (for the filters' rebuilds) and asks the
   * partition's filter which must be probed; undefined without filters.
   */
  private screen(partition: number, sinceDay: string, candidates: Candidate[]): { of: IdentityHash[]; mustProbe: boolean[] | undefined } | undefined {
    const count = this.filters?.partitionCount;
    if (!this.filters || count === undefined) {
      if (this.filters) this.screened.inc({ filter: 'unfiltered' }, candidates.length);
      return undefined;
    }
    const screened = candidates.map((c) => {
      const home = keyPartition(c.key, count);
      c.row.kafka_partition = home;
      c.row.kafka_partitions = count;
      return { key: c.key, hash: identityHash(c.row.namespace, c.row.source, c.row.id), home };
    });
    const mustProbe = this.filters.mustProbe(partition, sinceDay, screened);
    if (!mustProbe) this.screened.inc({ filter: 'unfiltered' }, candidates.length);
    else {
      const maybe = mustProbe.filter(Boolean).length;
      this.screened.inc({ filter: 'maybe' }, maybe);
      this.screened.inc({ filter: 'no' }, candidates.length - maybe);
    }
    return { of: screened.map((s) => s.hash), mustProbe };
  }

  private async sendDeadLetters(topic: string, partition: number, letters: DeadLetter[]): Promise<void> {
    await this.dlq.send({
      topic: this.opts.dlqTopic,
      acks: -1,
      messages: letters.map(({ message, reason, detail }) =>
        deadLetterMessage({ topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers, reason, detail }),
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

function storeRejected({ item, error }: Refused<Candidate>): DeadLetter {
  const c = classifyStoreError(error);
  const what = c.kind === 'data' ? `ClickHouse refused the row (${c.name}, code ${c.code})` : 'ClickHouse refused the row';
  return { message: item.message, reason: 'store_rejected', detail: `${what}: ${error instanceof Error ? error.message : describeError(error)}` };
}
