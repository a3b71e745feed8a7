import { z } from 'zod';
import { openPlan, planInto, type OpenPlan, type PlanOptions, type RawMessage } from './batch-plan';

/**
 * When the sink stores what it has read: one flush is one probe, one INSERT into events_raw and
 * one commit for every partition in it, however many broker batches it gathered. Whichever limit
 * is reached first flushes. Defaults measured with `npm run bench:pipeline` and `bench:sink`
 * (README, "Sink"): bigger flushes cost ClickHouse fewer parts and the sink less per event; the
 * time limit bounds how long an accepted event waits before it can be queried.
 */
export const flushConfigSchema = z.object({
  /** Messages gathered before a flush. */
  SINK_FLUSH_MAX_EVENTS: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  /** Bytes of message values gathered before a flush: with one flush in flight, the sink holds at most about twice this in messages. */
  SINK_FLUSH_MAX_BYTES: z.coerce.number().int().min(1024).max(512 * 1024 * 1024).default(16 * 1024 * 1024),
  /** How long the oldest message gathered may wait for a flush, ms. */
  SINK_FLUSH_MAX_MS: z.coerce.number().int().min(0).max(60_000).default(250),
});
export type FlushConfig = z.infer<typeof flushConfigSchema>;

export interface FlushLimits {
  maxEvents: number;
  maxBytes: number;
  maxMs: number;
}

export const flushLimits = (cfg: FlushConfig): FlushLimits => ({ maxEvents: cfg.SINK_FLUSH_MAX_EVENTS, maxBytes: cfg.SINK_FLUSH_MAX_BYTES, maxMs: cfg.SINK_FLUSH_MAX_MS });

/** One partition's share of a flush: its plan over every broker batch gathered, and what to commit. */
export interface PendingPartition {
  topic: string;
  partition: number;
  plan: OpenPlan;
  messages: number;
  /** The first offset gathered: where to read again if the flush fails. */
  firstOffset: string;
  /** The offset to commit once stored: one past the last message gathered. */
  nextOffset: string;
  /** Broker timestamp (epoch ms) of the first message gathered: how old its oldest event is. */
  firstMessageTimestampMs: number;
}

/** What one flush stores: the partitions gathered since the last one, and since when. */
export interface Flush {
  partitions: PendingPartition[];
  messages: number;
  bytes: number;
  /** process.hrtime.bigint() when the first message was gathered. */
  startedAt: bigint;
  /** The consumer group generation the messages were read in: a newer one makes them another member's. */
  generation: number;
}

/**
 * Gathers planned broker batches until a flush limit is reached. Planned on arrival (decoding
 * is CPU work that can go on while the previous flush waits on ClickHouse), deduplicated across
 * the broker batches of each partition (copies of an identity share a partition).
 */
export class FlushBuffer {
  private partitions = new Map<number, PendingPartition>();
  private messages = 0;
  private bytes = 0;
  private startedAtMs: number | undefined;
  private startedAt = 0n;
  private generation = 0;

  constructor(
    private readonly limits: FlushLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get isEmpty(): boolean {
    return this.messages === 0;
  }

  /** Adds a broker batch read in `generation` (a buffer never mixes generations: the caller clears it on a new one). */
  add(batch: { topic: string; partition: number; messages: Array<RawMessage & { timestamp?: string }> }, generation: number, opts: Omit<PlanOptions, 'partition'>): void {
    if (batch.messages.length === 0) return;
    if (this.messages === 0) {
      this.startedAtMs = this.now();
      this.startedAt = process.hrtime.bigint();
      this.generation = generation;
    }
    let pending = this.partitions.get(batch.partition);
    if (!pending) {
      pending = { topic: batch.topic, partition: batch.partition, plan: openPlan(), messages: 0, firstOffset: batch.messages[0]?.offset ?? '0', nextOffset: '0', firstMessageTimestampMs: Number(batch.messages[0]?.timestamp) };
      this.partitions.set(batch.partition, pending);
    }
    planInto(pending.plan, batch.messages, { ...opts, partition: batch.partition });
    pending.messages += batch.messages.length;
    const last = batch.messages[batch.messages.length - 1]?.offset ?? '0';
    pending.nextOffset = (BigInt(last) + 1n).toString();
    this.messages += batch.messages.length;
    for (const m of batch.messages) this.bytes += m.value?.length ?? 0;
  }

  /** The count or bytes limit is reached: flush now. */
  get full(): boolean {
    return this.messages >= this.limits.maxEvents || this.bytes >= this.limits.maxBytes;
  }

  /** Ms until the time limit flushes what is gathered (0: now); undefined when empty. */
  dueInMs(): number | undefined {
    if (this.startedAtMs === undefined) return undefined;
    return Math.max(0, this.startedAtMs + this.limits.maxMs - this.now());
  }

  /** Hands over what is gathered and starts empty. */
  take(): Flush {
    const flush: Flush = { partitions: [...this.partitions.values()], messages: this.messages, bytes: this.bytes, startedAt: this.startedAt, generation: this.generation };
    this.clear();
    return flush;
  }

  clear(): void {
    this.partitions = new Map();
    this.messages = 0;
    this.bytes = 0;
    this.startedAtMs = undefined;
  }
}
