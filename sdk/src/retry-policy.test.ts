import { describe, expect, it } from 'vitest';
import { backoffDelayMs, isRetryableStatus, retryAfterMs, retryDelayMs } from './retry-policy.js';

const settings = { retryBaseDelayMs: 200, retryMaxDelayMs: 30_000 };
const almostOne = () => 0.999_999;

describe('full-jitter backoff', () => {
  it('waits below min(max, base × 2^attempt), doubling the ceiling each attempt up to the max', () => {
    expect([0, 1, 2, 3, 7, 8, 50].map((attempt) => backoffDelayMs(attempt, settings, almostOne))).toEqual([199, 399, 799, 1599, 25_599, 29_999, 29_999]);
  });

  it('may wait anything from 0 up to the ceiling (jitter spreads clients that failed together)', () => {
    expect(backoffDelayMs(5, settings, () => 0)).toBe(0);
    expect(backoffDelayMs(5, settings, () => 0.5)).toBe(3_200);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-03-01T10:00:00Z');

  it('reads delay-seconds and an HTTP date; ignores a missing or unreadable one', () => {
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Sun, 01 Mar 2026 10:00:05 GMT', now)).toBe(5_000);
    expect(retryAfterMs('Sun, 01 Mar 2026 09:59:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('-1', now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });

  it('is a floor: the wait is Retry-After plus up to the base delay of jitter, whatever the attempt', () => {
    expect(retryDelayMs(0, 2_000, settings, () => 0)).toBe(2_000);
    expect(retryDelayMs(6, 2_000, settings, almostOne)).toBe(2_199);
    expect(retryDelayMs(2, undefined, settings, almostOne)).toBe(799);
  });
});

describe('what is retried', () => {
  it('408, 429 and 5xx; no other status', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 409, 413, 415, 422].some(isRetryableStatus)).toBe(false);
  });
});
