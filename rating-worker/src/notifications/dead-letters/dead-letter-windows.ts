// The watcher's counts: dead letters per organization per fixed window (aligned to the epoch, so
// every replica and every restart cuts the same windows), which windows crossed the alert minimum,
// and how far each partition may be committed without forgetting a count that still matters.
//
// Nothing here is stored: the counts are rebuilt by reading again. So an offset is committed only
// past the letters of windows that are over (ended at least a window ago) and whose alerts are
// recorded; a restart, a rebalance or a crash re-reads every letter of the windows still open and
// counts them again, and the outbox's dedupe key makes a second record of an alert a no-op.

/** Letters of windows that ended longer ago than this are not counted: an alert about them is news no one can act on. */
export const STALE_AFTER_MS = 24 * 3_600_000;

export interface GrowingWindow {
  organizationId: string;
  windowStart: number;
  windowEnd: number;
  /** The organization's letters in the window when it was found over the minimum. */
  count: number;
  /** When the latest of them was dead-lettered: when the window was seen growing. */
  latestAtMs: number;
}

interface OrgCount {
  count: number;
  latestAtMs: number;
  /** The alert is in the outbox (or was found already there). */
  recorded: boolean;
}

export class DeadLetterWindows {
  /** windowStart → organization → its count. */
  private readonly counts = new Map<number, Map<string, OrgCount>>();
  /** partition → windowStart → the first offset of the partition with a letter of that window. */
  private readonly firstOffsets = new Map<number, Map<number, bigint>>();
  /** partition → the next offset to read (everything before it is counted). */
  private readonly next = new Map<number, bigint>();

  constructor(
    private readonly opts: { windowMs: number; alertMin: number; now?: () => number },
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  windowOf(atMs: number): number {
    return Math.floor(atMs / this.opts.windowMs) * this.opts.windowMs;
  }

  /** False for an offset counted already in this assignment (a batch handed back and fetched again). */
  isNew(partition: number, offset: bigint): boolean {
    const next = this.next.get(partition);
    return next === undefined || offset >= next;
  }

  /** The message at `offset` is dealt with (counted, or not a countable letter). */
  passed(partition: number, offset: bigint): void {
    this.next.set(partition, offset + 1n);
  }

  /**
   * Counts one letter of `organizationId` dead-lettered at `atMs`, at `offset` of `partition`.
   * Returns false (not counted) for a letter of a stale window.
   */
  count(partition: number, offset: bigint, organizationId: string, atMs: number): boolean {
    const windowStart = this.windowOf(atMs);
    if (windowStart + this.opts.windowMs < this.now() - STALE_AFTER_MS) return false;
    let orgs = this.counts.get(windowStart);
    if (!orgs) this.counts.set(windowStart, (orgs = new Map()));
    const entry = orgs.get(organizationId) ?? { count: 0, latestAtMs: atMs, recorded: false };
    entry.count += 1;
    entry.latestAtMs = Math.max(entry.latestAtMs, atMs);
    orgs.set(organizationId, entry);
    let firsts = this.firstOffsets.get(partition);
    if (!firsts) this.firstOffsets.set(partition, (firsts = new Map()));
    if (!firsts.has(windowStart)) firsts.set(windowStart, offset);
    return true;
  }

  /** Windows over the minimum whose alert is not recorded yet, oldest first. */
  growing(): GrowingWindow[] {
    const found: GrowingWindow[] = [];
    for (const [windowStart, orgs] of [...this.counts].sort(([a], [b]) => a - b)) {
      for (const [organizationId, entry] of orgs) {
        if (!entry.recorded && entry.count >= this.opts.alertMin) {
          found.push({ organizationId, windowStart, windowEnd: windowStart + this.opts.windowMs, count: entry.count, latestAtMs: entry.latestAtMs });
        }
      }
    }
    return found;
  }

  /** The alert of `w` is in the outbox. */
  recorded(w: Pick<GrowingWindow, 'organizationId' | 'windowStart'>): void {
    const entry = this.counts.get(w.windowStart)?.get(w.organizationId);
    if (entry) entry.recorded = true;
  }

  /**
   * A window still matters for the commit while it is open or just over (letters of it may still
   * arrive, from a sink with a late clock or a partition read behind the others), or while one
   * of its alerts waits to be recorded.
   */
  private holds(windowStart: number, now: number): boolean {
    if (windowStart + 2 * this.opts.windowMs > now) return true;
    for (const entry of this.counts.get(windowStart)?.values() ?? []) {
      if (!entry.recorded && entry.count >= this.opts.alertMin) return true;
    }
    return false;
  }

  /**
   * Per partition read so far, the offset to commit: the first letter of a window that still
   * matters, else the next offset to read. Forgets what no longer matters (windows that are
   * over, counts of stale windows).
   */
  commitPoints(): Map<number, bigint> {
    const now = this.now();
    const points = new Map<number, bigint>();
    for (const [partition, next] of this.next) {
      let point = next;
      const firsts = this.firstOffsets.get(partition);
      for (const [windowStart, first] of firsts ?? []) {
        if (!this.holds(windowStart, now)) firsts?.delete(windowStart);
        else if (first < point) point = first;
      }
      points.set(partition, point);
    }
    for (const windowStart of this.counts.keys()) {
      if (windowStart + this.opts.windowMs < now - STALE_AFTER_MS) this.counts.delete(windowStart);
    }
    return points;
  }

  /** A new assignment: the partitions are read again from their committed offsets, so everything is counted anew. */
  reset(): void {
    this.counts.clear();
    this.firstOffsets.clear();
    this.next.clear();
  }
}
