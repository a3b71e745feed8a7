/**
 * Is the consumer making progress? Per partition it keeps the end of the log as last seen
 * (a fetched batch's high watermark), the offset committed, and since when messages have been
 * pending without a commit. A partition with pending messages and no commit for longer than the
 * stall timeout is stalled: the consumer is stopped, stuck in a batch (store outage, DLQ broker
 * down) or looping. An idle partition (nothing pending) is never stalled, however old its last
 * commit. Pure; the clock is injected.
 */
export interface PartitionState {
  partition: number;
  /** Next offset to be written to the log, as of the last fetched batch. */
  end: bigint;
  /** Next offset to be read by the group: the last commit (or where our first batch started). */
  committed: bigint;
  /** When the last commit was made, epoch ms; undefined before the first. */
  lastCommitAt: number | undefined;
  /** Since when messages have been pending with no commit, epoch ms; undefined when caught up. */
  waitingSince: number | undefined;
}

export interface StalledPartition {
  partition: number;
  pending: bigint;
  /** How long messages have been pending without a commit, ms. */
  waitingMs: number;
}

export class PartitionProgress {
  private readonly partitions = new Map<number, PartitionState>();

  constructor(
    readonly stallTimeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The group (re)assigned partitions: forget everything, since a partition we owned before may
   * have been committed by another member in between.
   */
  reset(): void {
    this.partitions.clear();
  }

  /**
   * A batch arrived: offsets `firstOffset`..`lastOffset`, the log ending at `highWatermark`.
   * Anything before `firstOffset` was already handled, by us or by a previous owner.
   */
  seen(partition: number, firstOffset: string, lastOffset: string, highWatermark: string): void {
    const now = this.now();
    const first = BigInt(firstOffset);
    const end = bigMax(BigInt(highWatermark), BigInt(lastOffset) + 1n);
    const state = this.partitions.get(partition) ?? { partition, end: first, committed: first, lastCommitAt: undefined, waitingSince: undefined };
    state.end = bigMax(state.end, end);
    if (state.committed < first && state.lastCommitAt === undefined) state.committed = first;
    if (state.end > state.committed && state.waitingSince === undefined) state.waitingSince = now;
    this.partitions.set(partition, state);
  }

  /** Offsets before `nextOffset` are committed. */
  committed(partition: number, nextOffset: string): void {
    const now = this.now();
    const next = BigInt(nextOffset);
    const state = this.partitions.get(partition) ?? { partition, end: next, committed: next, lastCommitAt: undefined, waitingSince: undefined };
    state.committed = bigMax(state.committed, next);
    state.end = bigMax(state.end, state.committed);
    state.lastCommitAt = now;
    // Progress: the clock restarts if more is pending, stops if caught up.
    state.waitingSince = state.end > state.committed ? now : undefined;
    this.partitions.set(partition, state);
  }

  /** Partitions with pending messages and no commit for longer than the stall timeout. */
  stalled(): StalledPartition[] {
    const now = this.now();
    const out: StalledPartition[] = [];
    for (const s of this.partitions.values()) {
      if (s.waitingSince === undefined) continue;
      const waitingMs = now - s.waitingSince;
      if (waitingMs > this.stallTimeoutMs) out.push({ partition: s.partition, pending: s.end - s.committed, waitingMs });
    }
    return out.sort((a, b) => a.partition - b.partition);
  }

  /** How long each partition has had messages pending without a commit (0 when caught up), ms. */
  waiting(): Array<{ partition: number; waitingMs: number; lastCommitAt: number | undefined }> {
    const now = this.now();
    return [...this.partitions.values()]
      .sort((a, b) => a.partition - b.partition)
      .map((s) => ({ partition: s.partition, waitingMs: s.waitingSince === undefined ? 0 : now - s.waitingSince, lastCommitAt: s.lastCommitAt }));
  }

  /** Why the consumer counts as stalled, or undefined when it does not. */
  stallReason(): string | undefined {
    const stalled = this.stalled();
    if (stalled.length === 0) return undefined;
    const parts = stalled.map((s) => `partition ${s.partition}: ${s.pending} message(s) pending, no commit for ${Math.round(s.waitingMs / 1000)} s`);
    return `consumer stalled (no progress for more than ${Math.round(this.stallTimeoutMs / 1000)} s): ${parts.join('; ')}`;
  }
}

const bigMax = (a: bigint, b: bigint): bigint => (a > b ? a : b);
