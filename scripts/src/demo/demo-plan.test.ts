import { checkPrices, firstPeriod } from '@polaris/shared/billing';
import { describe, expect, it } from 'vitest';
import { DEMO_METERS } from './demo-meters';
import { closedFirstPeriod, CLOSED_AGO_MS, DEMO_CUSTOMERS, DEMO_PLAN, oneMonthBefore } from './demo-plan';

const MINUTE = 60_000;

describe('the demo plan', () => {
  it('passes the checks a plan version is stored with, on meters the demo creates', () => {
    const prices = checkPrices(DEMO_PLAN.prices);
    expect(prices.map((p) => p.model).sort()).toEqual(['FLAT', 'GRADUATED', 'PACKAGE', 'PER_UNIT', 'VOLUME']);
    const slugs = new Set(DEMO_METERS.map((m) => m.slug));
    for (const price of prices) if (price.meterSlug) expect(slugs).toContain(price.meterSlug);
  });

  it('bills each subject of the sample traffic to one customer', () => {
    expect(DEMO_CUSTOMERS.flatMap((c) => c.subjects)).toEqual(['acme', 'globex', 'initech']);
  });
});

describe('oneMonthBefore', () => {
  it('keeps the day and the time of day', () => {
    expect(oneMonthBefore(new Date('2026-03-15T12:34:00Z')).toISOString()).toBe('2026-02-15T12:34:00.000Z');
    expect(oneMonthBefore(new Date('2026-01-10T00:05:00Z')).toISOString()).toBe('2025-12-10T00:05:00.000Z');
  });

  it("clamps a day the previous month lacks to that month's last", () => {
    expect(oneMonthBefore(new Date('2026-03-31T08:00:00Z')).toISOString()).toBe('2026-02-28T08:00:00.000Z');
    expect(oneMonthBefore(new Date('2028-03-30T08:00:00Z')).toISOString()).toBe('2028-02-29T08:00:00.000Z');
    expect(oneMonthBefore(new Date('2026-07-31T08:00:00Z')).toISOString()).toBe('2026-06-30T08:00:00.000Z');
  });
});

describe('closedFirstPeriod', () => {
  it('starts a subscription whose first period closed CLOSED_AGO_MS ago, on whole minutes', () => {
    const now = Date.parse('2026-11-27T16:42:30.500Z');
    const { startAt, period } = closedFirstPeriod(now);
    expect(startAt.toISOString()).toBe('2026-10-27T16:32:00.000Z');
    expect(period.start).toEqual(startAt);
    expect(period.end.toISOString()).toBe('2026-11-27T16:32:00.000Z');
    expect(now - period.end.getTime()).toBeGreaterThanOrEqual(CLOSED_AGO_MS);
    expect(now - period.end.getTime()).toBeLessThan(CLOSED_AGO_MS + MINUTE);
  });

  it('still gives a closed period on a day the previous month lacks', () => {
    const now = Date.parse('2026-03-31T10:00:00Z');
    const { startAt, period } = closedFirstPeriod(now);
    expect(period).toEqual(firstPeriod({ anchor: 'anniversary', startAt, timeZone: 'UTC' }));
    expect(period.end.getTime()).toBeLessThan(now - CLOSED_AGO_MS + 1);
    expect(now - period.start.getTime()).toBeLessThan(35 * 24 * 60 * MINUTE);
  });
});
