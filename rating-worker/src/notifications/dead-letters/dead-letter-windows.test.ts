import { describe, expect, it } from 'vitest';
import { DeadLetterWindows, STALE_AFTER_MS } from './dead-letter-windows';

const WINDOW = 300_000;
const T0 = 1_786_000_000_000 - (1_786_000_000_000 % WINDOW);
const A = 'org-a';
const B = 'org-b';

function windows(now: { t: number }, alertMin = 3) {
  return new DeadLetterWindows({ windowMs: WINDOW, alertMin, now: () => now.t });
}

describe('DeadLetterWindows', () => {
  it('finds an organization over the minimum in a window once, across partitions', () => {
    const now = { t: T0 + 10_000 };
    const w = windows(now);
    w.count(0, 5n, A, T0 + 1);
    w.count(1, 7n, A, T0 + 2);
    w.count(1, 8n, B, T0 + 3);
    expect(w.growing()).toEqual([]);
    w.count(2, 1n, A, T0 + 4);
    expect(w.growing()).toEqual([{ organizationId: A, windowStart: T0, windowEnd: T0 + WINDOW, count: 3, latestAtMs: T0 + 4 }]);
    w.recorded({ organizationId: A, windowStart: T0 });
    w.count(0, 6n, A, T0 + 5);
    expect(w.growing()).toEqual([]);
  });

  it('counts windows apart', () => {
    const w = windows({ t: T0 + WINDOW }, 2);
    w.count(0, 1n, A, T0 + WINDOW - 1);
    w.count(0, 2n, A, T0 + WINDOW);
    expect(w.growing()).toEqual([]);
  });

  it('holds the commit at the first letter of a window not over yet, then lets go', () => {
    const now = { t: T0 + 1_000 };
    const w = windows(now, 100);
    w.count(0, 10n, A, T0 + 1);
    w.passed(0, 10n);
    w.passed(0, 11n);
    expect(w.commitPoints()).toEqual(new Map([[0, 10n]]));
    // Over: ended a whole window ago.
    now.t = T0 + 2 * WINDOW;
    expect(w.commitPoints()).toEqual(new Map([[0, 12n]]));
  });

  it('holds a window whose alert is not recorded yet, however old', () => {
    const now = { t: T0 + 1_000 };
    const w = windows(now, 1);
    w.count(3, 4n, A, T0 + 1);
    w.passed(3, 4n);
    now.t = T0 + 10 * WINDOW;
    expect(w.commitPoints()).toEqual(new Map([[3, 4n]]));
    w.recorded({ organizationId: A, windowStart: T0 });
    expect(w.commitPoints()).toEqual(new Map([[3, 5n]]));
  });

  it('does not count stale windows, and skips offsets already counted', () => {
    const now = { t: T0 + STALE_AFTER_MS + 2 * WINDOW };
    const w = windows(now, 1);
    expect(w.count(0, 1n, A, T0)).toBe(false);
    w.passed(0, 1n);
    expect(w.isNew(0, 1n)).toBe(false);
    expect(w.isNew(0, 2n)).toBe(true);
    w.reset();
    expect(w.isNew(0, 1n)).toBe(true);
  });
});
