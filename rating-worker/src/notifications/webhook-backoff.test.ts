import { describe, expect, it } from 'vitest';
import { notificationsConfigSchema } from './notifications-config';
import { retryDelayMs, retrySpanMs } from './webhook-backoff';

describe('webhook retry backoff', () => {
  const defaults = notificationsConfigSchema.parse({});
  const settings = { baseMs: defaults.WEBHOOK_BACKOFF_BASE_MS, maxMs: defaults.WEBHOOK_BACKOFF_MAX_MS };

  it('doubles from the base up to the cap, with at most ±20 % jitter', () => {
    expect(retryDelayMs(settings, 1, 0.5)).toBe(30_000);
    expect(retryDelayMs(settings, 2, 0.5)).toBe(60_000);
    expect(retryDelayMs(settings, 30, 0.5)).toBe(settings.maxMs);
    expect(retryDelayMs(settings, 1, 0)).toBe(24_000);
    expect(retryDelayMs(settings, 1, 0.999_999)).toBe(36_000);
  });

  it('spans at least 24 hours with the default attempts, even at the low end of the jitter', () => {
    const lowest = retrySpanMs(settings, defaults.WEBHOOK_MAX_ATTEMPTS, 0);
    expect(lowest).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(retrySpanMs(settings, defaults.WEBHOOK_MAX_ATTEMPTS, 0.999_999)).toBeLessThan(48 * 3_600_000);
  });
});
