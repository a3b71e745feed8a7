import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/http';
import { meterEvent, sendAll, type MeterEvent } from './support/meter-events';
import { createMeter, usageOf, waitForBackfill, type MeterInput, type UsageArgs } from './support/meters';
import { comparable, expectedUsage } from './support/meters-expected';
import { collectorUrl, gatewayUrl } from './support/ports';
import { rowCount } from './support/stored-rows';
import { createTenant, type Tenant } from './support/tenants';

/**
 * docs/meters.md, "Reading usage": windows are the zone's calendar days and hours, through the
 * public API. New York's 2026-11-01 lasts 25 hours (01:00–02:00 happens twice) and 2026-03-08 23
 * hours (02:00–03:00 never happens); a Kathmandu hour starts at :15 UTC (+05:45). Each event's
 * value is a distinct power of ten, so a window's sum says exactly which events it holds. The
 * bounds are written out here by hand, and the answers also checked against the luxon-computed
 * expectation.
 */

const TYPE = 'tz.usage';
const at = (iso: string, tokens: number): MeterEvent => meterEvent({ type: TYPE, subject: 'cust-tz', timeMs: Date.parse(iso), dataJson: JSON.stringify({ tokens }) });

const FALL_BACK = [
  at('2026-11-01T03:59:59.999Z', 1), // 23:59:59.999 EDT, Oct 31
  at('2026-11-01T04:00:00.000Z', 10), // 00:00 EDT, Nov 1
  at('2026-11-01T05:30:00.000Z', 100), // the first 01:30 (EDT)
  at('2026-11-01T06:30:00.000Z', 1_000), // the second 01:30 (EST)
  at('2026-11-02T04:59:59.999Z', 10_000), // 23:59:59.999 EST, still Nov 1
  at('2026-11-02T05:00:00.000Z', 100_000), // 00:00 EST, Nov 2
];
const SPRING_FORWARD = [
  at('2026-03-08T04:59:59.999Z', 2), // 23:59:59.999 EST, Mar 7
  at('2026-03-08T05:00:00.000Z', 20), // 00:00 EST, Mar 8
  at('2026-03-08T06:59:59.999Z', 200), // 01:59:59.999 EST, then the clock jumps
  at('2026-03-08T07:00:00.000Z', 2_000), // 03:00 EDT
  at('2026-03-09T03:59:59.999Z', 20_000), // 23:59:59.999 EDT, still Mar 8
  at('2026-03-09T04:00:00.000Z', 200_000), // 00:00 EDT, Mar 9
];
const KATHMANDU = [
  at('2026-11-10T09:14:59.999Z', 3), // 14:59:59.999 NPT
  at('2026-11-10T09:15:00.000Z', 30), // 15:00 NPT
  at('2026-11-10T10:14:59.999Z', 300), // 15:59:59.999 NPT
  at('2026-11-10T10:15:00.000Z', 3_000), // 16:00 NPT
];
const EVENTS = [...FALL_BACK, ...SPRING_FORWARD, ...KATHMANDU];

const METER: MeterInput = { slug: 'tz_tokens', name: 'Tokens', eventType: TYPE, aggregation: 'SUM', valuePath: '$.tokens' };
const DEFINITION = { eventType: TYPE, aggregation: 'SUM' as const, valuePath: '$.tokens', dimensions: [] };

const row = (windowStart: string, windowEnd: string, value: string, eventCount: number) => ({
  windowStartMs: Date.parse(windowStart),
  windowEndMs: Date.parse(windowEnd),
  subject: null,
  dimensions: {},
  value,
  eventCount: String(eventCount),
  invalidCount: '0',
});

describe('meter usage windows in time zones, through the API', () => {
  let tenant: Tenant;

  beforeAll(async () => {
    tenant = await createTenant(['events:write', 'usage:read', 'meters:write']);
    await sendAll(collectorUrl, tenant.apiKey, EVENTS);
    await eventually(async () => ((await rowCount(tenant.orgId)) === EVENTS.length ? true : undefined), 'the backdated events to be stored');
    await createMeter(gatewayUrl, tenant.apiKey, METER);
    await waitForBackfill(gatewayUrl, tenant.apiKey, METER.slug);
  });

  const ask = async (args: Omit<UsageArgs, 'metric'>) => {
    const answer = await usageOf(gatewayUrl, tenant.apiKey, { metric: METER.slug, ...args });
    expect(answer.complete).toBe(true);
    const got = comparable(answer);
    expect(got).toEqual(expectedUsage(EVENTS, DEFINITION, { metric: METER.slug, ...args }));
    return got;
  };

  it('New York, 2026-11-01: a 25-hour day, its repeated 01:00 hour split in two', async () => {
    const days = await ask({ from: '2026-10-31T04:00:00Z', to: '2026-11-03T05:00:00Z', windowSize: 'DAY', windowTimeZone: 'America/New_York' });
    expect(days.rows).toEqual([
      row('2026-10-31T04:00:00Z', '2026-11-01T04:00:00Z', '1', 1),
      row('2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', '11110', 4),
      row('2026-11-02T05:00:00Z', '2026-11-03T05:00:00Z', '100000', 1),
    ]);
    expect(days.total).toBe('111111');

    const hours = await ask({ from: '2026-11-01T04:00:00Z', to: '2026-11-01T08:00:00Z', windowSize: 'HOUR', windowTimeZone: 'America/New_York' });
    expect(hours.rows).toEqual([
      row('2026-11-01T04:00:00Z', '2026-11-01T05:00:00Z', '10', 1),
      row('2026-11-01T05:00:00Z', '2026-11-01T06:00:00Z', '100', 1),
      row('2026-11-01T06:00:00Z', '2026-11-01T07:00:00Z', '1000', 1),
    ]);

    // A range inside the day: the window keeps the zone's bounds, the value counts only [from, to).
    const partial = await ask({ from: '2026-11-01T05:00:00Z', to: '2026-11-02T00:00:00Z', windowSize: 'DAY', windowTimeZone: 'America/New_York' });
    expect(partial.rows).toEqual([row('2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', '1100', 2)]);
  });

  it('New York, 2026-03-08: a 23-hour day', async () => {
    const days = await ask({ from: '2026-03-07T05:00:00Z', to: '2026-03-10T04:00:00Z', windowSize: 'DAY', windowTimeZone: 'America/New_York' });
    expect(days.rows).toEqual([
      row('2026-03-07T05:00:00Z', '2026-03-08T05:00:00Z', '2', 1),
      row('2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z', '22220', 4),
      row('2026-03-09T04:00:00Z', '2026-03-10T04:00:00Z', '200000', 1),
    ]);
    // The same events in UTC days: other windows, the same total.
    const utc = await ask({ from: '2026-03-07T00:00:00Z', to: '2026-03-10T00:00:00Z', windowSize: 'DAY' });
    expect(utc.rows).toEqual([row('2026-03-08T00:00:00Z', '2026-03-09T00:00:00Z', '2222', 4), row('2026-03-09T00:00:00Z', '2026-03-10T00:00:00Z', '220000', 2)]);
    expect(utc.total).toBe(days.total);
  });

  it('Asia/Kathmandu (+05:45): hours start at :15 UTC, days at 18:15 UTC', async () => {
    const hours = await ask({ from: '2026-11-10T08:15:00Z', to: '2026-11-10T11:15:00Z', windowSize: 'HOUR', windowTimeZone: 'Asia/Kathmandu' });
    expect(hours.rows).toEqual([
      row('2026-11-10T08:15:00Z', '2026-11-10T09:15:00Z', '3', 1),
      row('2026-11-10T09:15:00Z', '2026-11-10T10:15:00Z', '330', 2),
      row('2026-11-10T10:15:00Z', '2026-11-10T11:15:00Z', '3000', 1),
    ]);
    const day = await ask({ from: '2026-11-09T18:15:00Z', to: '2026-11-10T18:15:00Z', windowSize: 'DAY', windowTimeZone: 'Asia/Kathmandu' });
    expect(day.rows).toEqual([row('2026-11-09T18:15:00Z', '2026-11-10T18:15:00Z', '3333', 4)]);
  });
});
