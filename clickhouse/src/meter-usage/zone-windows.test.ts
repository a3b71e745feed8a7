import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, coarsestRollupGrain, zoneWindowBoundaries, type MeterWindowSize } from './zone-windows';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const utc = (iso: string) => DateTime.fromISO(iso, { zone: 'UTC' }).toMillis();
const local = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toMillis();

/**
 * The plain luxon walk the fast path must agree with: startOf, then plus one unit, every step
 * (plus alone where startOf falls back into the hour repeated at a 30-minute DST end, Lord Howe).
 */
function luxonWalk(fromMs: number, toMs: number, size: Exclude<MeterWindowSize, 'none'>, zone: string): number[] {
  const plural = { minute: 'minutes', hour: 'hours', day: 'days', month: 'months' } as const;
  let d = DateTime.fromMillis(fromMs, { zone }).startOf(size);
  const out = [d.toMillis()];
  while (d.toMillis() < toMs) {
    const next = d.plus({ [plural[size]]: 1 }).startOf(size);
    d = next > d ? next : d.plus({ [plural[size]]: 1 });
    out.push(d.toMillis());
  }
  return out;
}

describe('zoneWindowBoundaries', () => {
  it('gives New York a 23-hour day in March and a 25-hour day in November', () => {
    const ny = 'America/New_York';
    const spring = zoneWindowBoundaries(local('2026-03-08', ny), local('2026-03-09', ny), 'day', ny, 10);
    expect(spring).toEqual([utc('2026-03-08T05:00'), utc('2026-03-09T04:00')]);
    const autumn = zoneWindowBoundaries(local('2026-11-01', ny), local('2026-11-02', ny), 'day', ny, 10);
    expect(autumn).toEqual([utc('2026-11-01T04:00'), utc('2026-11-02T05:00')]);
    expect(zoneWindowBoundaries(local('2026-03-08', ny), local('2026-03-09', ny), 'hour', ny, 100)).toHaveLength(24);
    expect(zoneWindowBoundaries(local('2026-11-01', ny), local('2026-11-02', ny), 'hour', ny, 100)).toHaveLength(26);
  });

  it('starts Kolkata hours at :30 and Kathmandu hours at :15 UTC', () => {
    expect(zoneWindowBoundaries(utc('2026-03-01T10:00'), utc('2026-03-01T11:00'), 'hour', 'Asia/Kolkata', 10)).toEqual([
      utc('2026-03-01T09:30'),
      utc('2026-03-01T10:30'),
      utc('2026-03-01T11:30'),
    ]);
    expect(zoneWindowBoundaries(utc('2026-03-01T10:00'), utc('2026-03-01T10:30'), 'hour', 'Asia/Kathmandu', 10)).toEqual([
      utc('2026-03-01T09:15'),
      utc('2026-03-01T10:15'),
      utc('2026-03-01T11:15'),
    ]);
  });

  it('gives whole calendar months, and the range itself for no windows', () => {
    expect(zoneWindowBoundaries(utc('2026-01-15'), utc('2026-03-01'), 'month', 'UTC', 10)).toEqual([utc('2026-01-01'), utc('2026-02-01'), utc('2026-03-01')]);
    expect(zoneWindowBoundaries(5, 10, 'none', 'Asia/Kolkata', 1)).toEqual([5, 10]);
  });

  it.each([
    ['America/New_York', 'hour'],
    ['America/New_York', 'day'],
    ['Europe/London', 'month'],
    ['Australia/Lord_Howe', 'hour'], //  a 30-minute DST shift
    ['Asia/Kathmandu', 'day'],
    ['America/Sao_Paulo', 'day'], //     DST used to start at midnight (2018)
  ] as const)('agrees with a plain luxon walk in %s, per %s, across years of transitions', (zone, size) => {
    const from = utc('2017-06-01');
    const to = from + (size === 'hour' ? 400 * DAY : size === 'day' ? 3 * 365 * DAY : 20 * 365 * DAY);
    expect(zoneWindowBoundaries(from, to, size, zone, 100_000)).toEqual(luxonWalk(from, to, size, zone));
  });

  it('stops past the window limit, fast', () => {
    const started = performance.now();
    expect(zoneWindowBoundaries(0, 20_000 * 60_000, 'minute', 'America/New_York', 10_000)).toBeUndefined();
    expect(zoneWindowBoundaries(0, 10_000 * 60_000, 'minute', 'America/New_York', 10_000)).toHaveLength(10_001);
    expect(zoneWindowBoundaries(utc('2020-01-01'), utc('2021-02-01'), 'hour', 'America/New_York', 10_000)).toHaveLength(397 * 24 + 1);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('coarsestRollupGrain', () => {
  it('reads days for UTC days, hours for New York days, minutes for Kolkata or Kathmandu hours', () => {
    const days = (zone: string) => zoneWindowBoundaries(utc('2026-03-01'), utc('2026-04-01'), 'day', zone, 100) ?? [];
    expect(coarsestRollupGrain([utc('2026-03-01'), utc('2026-04-01'), ...days('UTC')])).toBe('day');
    expect(coarsestRollupGrain([utc('2026-03-01'), utc('2026-04-01'), ...days('America/New_York').slice(1, -1)])).toBe('hour');
    expect(coarsestRollupGrain([utc('2026-03-01'), utc('2026-03-02'), utc('2026-03-01T10:30')])).toBe('minute');
    expect(coarsestRollupGrain([utc('2026-03-01'), utc('2026-03-01T10:15')])).toBe('minute');
    expect(coarsestRollupGrain([utc('2026-03-01'), utc('2026-03-01T10:00:30')])).toBeUndefined();
    expect(coarsestRollupGrain([HOUR, 2 * HOUR])).toBe('hour');
  });
});

describe('canonicalTimeZone', () => {
  it('spells zones as the IANA database does, and refuses what is not one', () => {
    // ICU's canonical spelling: Node 24 answers the older link names (Asia/Calcutta), which every tzdata keeps.
    expect(canonicalTimeZone('asia/kolkata')).toMatch(/^Asia\/(Kolkata|Calcutta)$/);
    expect(canonicalTimeZone('asia/kolkata')).toBe(canonicalTimeZone('Asia/Kolkata'));
    expect(canonicalTimeZone('')).toBe('UTC');
    expect(canonicalTimeZone('America/New_York')).toBe('America/New_York');
    for (const bad of ['Mars/Olympus', '+05:30', "UTC') OR 1=1 --", 'Asia/Kolkata\n', '../etc/passwd', ' UTC']) expect(canonicalTimeZone(bad), bad).toBeUndefined();
  });
});
