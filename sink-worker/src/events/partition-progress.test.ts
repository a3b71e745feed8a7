import { describe, expect, it } from 'vitest';
import { PartitionProgress } from './partition-progress';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('PartitionProgress', () => {
  it('is not stalled while batches are committed, however long it runs', () => {
    const c = clock();
    const p = new PartitionProgress(10_000, c.now);
    for (let i = 0; i < 10; i++) {
      p.seen(0, String(i * 10), String(i * 10 + 9), String(i * 10 + 20));
      c.advance(9_000);
      p.committed(0, String(i * 10 + 10));
      expect(p.stalled()).toEqual([]);
    }
  });

  it('is never stalled when caught up, however old the last commit', () => {
    const c = clock();
    const p = new PartitionProgress(10_000, c.now);
    p.seen(0, '0', '9', '10');
    p.committed(0, '10');
    c.advance(3_600_000);
    expect(p.stalled()).toEqual([]);
    expect(p.stallReason()).toBeUndefined();
    expect(p.waiting()).toEqual([{ partition: 0, waitingMs: 0, lastCommitAt: 1_000_000 }]);
  });

  it('is stalled when messages are pending and nothing is committed past the timeout', () => {
    const c = clock();
    const p = new PartitionProgress(10_000, c.now);
    p.seen(2, '100', '149', '500');
    c.advance(10_000);
    expect(p.stalled()).toEqual([]); // exactly the timeout: not yet
    c.advance(1);
    expect(p.stalled()).toEqual([{ partition: 2, pending: 400n, waitingMs: 10_001 }]);
    expect(p.stallReason()).toBe('consumer stalled (no progress for more than 10 s): partition 2: 400 message(s) pending, no commit for 10 s');
  });

  it('counts from the last commit when more is pending after it', () => {
    const c = clock();
    const p = new PartitionProgress(10_000, c.now);
    p.seen(0, '0', '9', '100');
    c.advance(8_000);
    p.committed(0, '10'); // progress, 90 still pending
    c.advance(8_000);
    expect(p.stalled()).toEqual([]);
    c.advance(3_000);
    expect(p.stalled()).toEqual([{ partition: 0, pending: 90n, waitingMs: 11_000 }]);
  });

  it('starts the clock when messages arrive at a caught-up partition, not at its old commit', () => {
    const c = clock();
    const p = new PartitionProgress(10_000, c.now);
    p.seen(0, '0', '0', '1');
    p.committed(0, '1');
    c.advance(60_000); // idle
    p.seen(0, '1', '1', '2');
    c.advance(5_000);
    expect(p.stalled()).toEqual([]);
    c.advance(6_000);
    expect(p.stalled().map((s) => s.partition)).toEqual([0]);
  });

  it('names only the stalled partitions, in order', () => {
    const c = clock();
    const p = new PartitionProgress(10_000, c.now);
    p.seen(3, '0', '4', '5');
    p.seen(1, '0', '4', '5');
    p.seen(0, '0', '4', '5');
    p.committed(0, '5');
    c.advance(20_000);
    expect(p.stalled().map((s) => s.partition)).toEqual([1, 3]);
    expect(p.stallReason()).toContain('partition 1: 5 message(s) pending, no commit for 20 s; partition 3');
  });

  it('forgets everything on a new assignment', () => {
    const c = clock();
    const p = new PartitionProgress(10_000, c.now);
    p.seen(0, '0', '4', '5');
    c.advance(20_000);
    expect(p.stalled()).toHaveLength(1);
    p.reset();
    expect(p.stalled()).toEqual([]);
    expect(p.waiting()).toEqual([]);
  });

  it('uses the last offset when the high watermark lags behind it', () => {
    const c = clock();
    const p = new PartitionProgress(10_000, c.now);
    p.seen(0, '0', '9', '0');
    c.advance(10_001);
    expect(p.stalled()).toEqual([{ partition: 0, pending: 10n, waitingMs: 10_001 }]);
  });
});
