import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkTimeZone, firstPeriod, periodContaining, periodStartingAt, truncateToMinute } from './periods';
import type { BillingAnchor, BillingPeriod, BillingSchedule } from './types';

const at = (iso: string) => new Date(iso);
const iso = (period: BillingPeriod) => [period.start.toISOString(), period.end.toISOString()];
/** The first `count` periods, each found from the previous one's end. */
function periods(schedule: BillingSchedule, count: number): string[][] {
  const found = [firstPeriod(schedule)];
  while (found.length < count) found.push(periodStartingAt(schedule, (found.at(-1) as BillingPeriod).end));
  return found.map(iso);
}

describe('calendar periods', () => {
  const newYork: BillingSchedule = { anchor: 'calendar', startAt: at('2026-02-15T17:00:00Z'), timeZone: 'America/New_York' };

  it('start at 00:00 on the 1st in New York: 05:00 UTC in winter, 04:00 in summer (DST 2026-03-08 and 2026-11-01)', () => {
    expect(periods(newYork, 11)).toEqual([
      ['2026-02-15T17:00:00.000Z', '2026-03-01T05:00:00.000Z'],
      ['2026-03-01T05:00:00.000Z', '2026-04-01T04:00:00.000Z'],
      ['2026-04-01T04:00:00.000Z', '2026-05-01T04:00:00.000Z'],
      ['2026-05-01T04:00:00.000Z', '2026-06-01T04:00:00.000Z'],
      ['2026-06-01T04:00:00.000Z', '2026-07-01T04:00:00.000Z'],
      ['2026-07-01T04:00:00.000Z', '2026-08-01T04:00:00.000Z'],
      ['2026-08-01T04:00:00.000Z', '2026-09-01T04:00:00.000Z'],
      ['2026-09-01T04:00:00.000Z', '2026-10-01T04:00:00.000Z'],
      ['2026-10-01T04:00:00.000Z', '2026-11-01T04:00:00.000Z'],
      ['2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z'],
      ['2026-12-01T05:00:00.000Z', '2027-01-01T05:00:00.000Z'],
    ]);
  });

  it('holds an instant from its start (inclusive) to its end (exclusive)', () => {
    expect(iso(periodContaining(newYork, at('2026-04-01T04:00:00Z')))).toEqual(['2026-04-01T04:00:00.000Z', '2026-05-01T04:00:00.000Z']);
    expect(iso(periodContaining(newYork, at('2026-04-01T03:59:59.999Z')))).toEqual(['2026-03-01T05:00:00.000Z', '2026-04-01T04:00:00.000Z']);
    // 2026-03-31 23:30 in New York is already April in UTC: still March's period.
    expect(iso(periodContaining(newYork, at('2026-04-01T03:30:00Z')))).toEqual(['2026-03-01T05:00:00.000Z', '2026-04-01T04:00:00.000Z']);
    expect(iso(periodContaining(newYork, at('2026-02-15T17:00:00Z')))).toEqual(['2026-02-15T17:00:00.000Z', '2026-03-01T05:00:00.000Z']);
    expect(iso(periodContaining(newYork, at('2026-03-01T04:59:59.999Z')))).toEqual(['2026-02-15T17:00:00.000Z', '2026-03-01T05:00:00.000Z']);
    expect(iso(periodContaining(newYork, at('2026-11-01T06:30:00Z')))).toEqual(['2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z']);
  });

  it('gives the first period for an instant before the start', () => {
    expect(iso(periodContaining(newYork, at('2020-01-01T00:00:00Z')))).toEqual(iso(firstPeriod(newYork)));
  });

  it('a start exactly on the 1st makes a whole first month', () => {
    const onTheFirst: BillingSchedule = { ...newYork, startAt: at('2026-03-01T05:00:00Z') };
    expect(iso(firstPeriod(onTheFirst))).toEqual(['2026-03-01T05:00:00.000Z', '2026-04-01T04:00:00.000Z']);
  });

  it('cuts months in Asia/Kolkata at 18:30 UTC the day before', () => {
    const kolkata: BillingSchedule = { anchor: 'calendar', startAt: at('2026-12-10T00:00:00Z'), timeZone: 'Asia/Kolkata' };
    expect(periods(kolkata, 3)).toEqual([
      ['2026-12-10T00:00:00.000Z', '2026-12-31T18:30:00.000Z'],
      ['2026-12-31T18:30:00.000Z', '2027-01-31T18:30:00.000Z'],
      ['2027-01-31T18:30:00.000Z', '2027-02-28T18:30:00.000Z'],
    ]);
  });

  it('a start late on the last day in UTC may already be the next month locally', () => {
    // 2026-01-31 20:00 UTC is 2026-02-01 01:30 in Kolkata: the first period is February's.
    const kolkata: BillingSchedule = { anchor: 'calendar', startAt: at('2026-01-31T20:00:00Z'), timeZone: 'Asia/Kolkata' };
    expect(iso(firstPeriod(kolkata))).toEqual(['2026-01-31T20:00:00.000Z', '2026-02-28T18:30:00.000Z']);
  });
});

describe('anniversary periods', () => {
  const expected = (dates: string[]) => dates.slice(0, -1).map((start, i) => [start, dates[i + 1]]);

  it('from Jan 31 in a leap year: Feb 29, then back to the 31st, no drift over 14 months', () => {
    const schedule: BillingSchedule = { anchor: 'anniversary', startAt: at('2024-01-31T15:00:00Z'), timeZone: 'UTC' };
    const starts = ['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30', '2024-05-31', '2024-06-30', '2024-07-31', '2024-08-31', '2024-09-30', '2024-10-31', '2024-11-30', '2024-12-31', '2025-01-31', '2025-02-28', '2025-03-31'];
    expect(periods(schedule, 14)).toEqual(expected(starts.map((d) => `${d}T15:00:00.000Z`)));
  });

  it('from Jan 31 in a non-leap year, in New York: Feb 28, Mar 31 at the same local time across DST', () => {
    const schedule: BillingSchedule = { anchor: 'anniversary', startAt: at('2026-01-31T15:00:00Z'), timeZone: 'America/New_York' };
    expect(periods(schedule, 3)).toEqual([
      ['2026-01-31T15:00:00.000Z', '2026-02-28T15:00:00.000Z'],
      ['2026-02-28T15:00:00.000Z', '2026-03-31T14:00:00.000Z'],
      ['2026-03-31T14:00:00.000Z', '2026-04-30T14:00:00.000Z'],
    ]);
    expect(periods(schedule, 14).at(-1)).toEqual(['2027-02-28T15:00:00.000Z', '2027-03-31T14:00:00.000Z']);
  });

  it('a local time the DST change skips moves forward by the gap (02:30 → 03:30 on 2026-03-08)', () => {
    const schedule: BillingSchedule = { anchor: 'anniversary', startAt: at('2026-02-08T07:30:00Z'), timeZone: 'America/New_York' };
    expect(periods(schedule, 2)).toEqual([
      ['2026-02-08T07:30:00.000Z', '2026-03-08T07:30:00.000Z'],
      ['2026-03-08T07:30:00.000Z', '2026-04-08T06:30:00.000Z'],
    ]);
  });

  it('holds an instant from its start (inclusive) to its end (exclusive)', () => {
    const schedule: BillingSchedule = { anchor: 'anniversary', startAt: at('2026-05-20T09:17:00Z'), timeZone: 'Asia/Kolkata' };
    expect(iso(periodContaining(schedule, at('2026-07-20T09:17:00Z')))).toEqual(['2026-07-20T09:17:00.000Z', '2026-08-20T09:17:00.000Z']);
    expect(iso(periodContaining(schedule, at('2026-07-20T09:16:59.999Z')))).toEqual(['2026-06-20T09:17:00.000Z', '2026-07-20T09:17:00.000Z']);
    expect(iso(periodContaining(schedule, at('2026-01-01T00:00:00Z')))).toEqual(['2026-05-20T09:17:00.000Z', '2026-06-20T09:17:00.000Z']);
  });
});

describe('periodStartingAt', () => {
  const schedule: BillingSchedule = { anchor: 'calendar', startAt: at('2026-02-15T17:00:00Z'), timeZone: 'America/New_York' };
  it('finds the start and any boundary, and refuses anything else as a bug', () => {
    expect(iso(periodStartingAt(schedule, schedule.startAt))).toEqual(iso(firstPeriod(schedule)));
    expect(iso(periodStartingAt(schedule, at('2027-03-01T05:00:00Z')))).toEqual(['2027-03-01T05:00:00.000Z', '2027-04-01T04:00:00.000Z']);
    expect(() => periodStartingAt(schedule, at('2026-03-01T00:00:00Z'))).toThrow(/not a period boundary/);
    expect(() => periodStartingAt(schedule, at('2026-01-01T05:00:00Z'))).toThrow(/not a period boundary/);
  });
});

describe('periods: properties', () => {
  const zones = ['UTC', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Chatham'];
  const minute = 60_000;
  const instant = (from: number, to: number) => fc.integer({ min: from / minute, max: to / minute }).map((m) => new Date(m * minute));
  const schedule = fc.record<BillingSchedule>({
    anchor: fc.constantFrom<BillingAnchor>('calendar', 'anniversary'),
    startAt: instant(Date.UTC(2020, 0, 1), Date.UTC(2030, 0, 1)),
    timeZone: fc.constantFrom(...zones),
  });

  it('every instant after the start lies in exactly one period, which starts where the previous one ends', () => {
    fc.assert(
      fc.property(schedule, fc.integer({ min: 0, max: 5 * 366 * 24 * 60 }), (s, minutes) => {
        const t = new Date(s.startAt.getTime() + minutes * minute);
        const p = periodContaining(s, t);
        expect(p.start.getTime()).toBeLessThanOrEqual(t.getTime());
        expect(t.getTime()).toBeLessThan(p.end.getTime());
        const days = (p.end.getTime() - p.start.getTime()) / 86_400_000;
        expect(days).toBeLessThanOrEqual(32);
        expect(iso(periodStartingAt(s, p.start))).toEqual(iso(p));
        expect(periodStartingAt(s, p.end).start.getTime()).toBe(p.end.getTime());
        if (p.start.getTime() !== s.startAt.getTime()) {
          expect(periodContaining(s, new Date(p.start.getTime() - 1)).end.getTime()).toBe(p.start.getTime());
          expect(days).toBeGreaterThanOrEqual(27.9);
        }
      }),
    );
  });
});

describe('checkTimeZone', () => {
  it.each([
    ['America/New_York', 'America/New_York'],
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['Asia/Calcutta', 'Asia/Calcutta'],
    ['UTC', 'UTC'],
  ])('accepts %s as %s, spelled as given', (zone, canonical) => expect(checkTimeZone(zone)).toBe(canonical));

  it.each(['Mars/Olympus_Mons', '', '+05:00', 'EST5EDT ', 'America/New York'])('refuses %j (unknown_time_zone)', (zone) => {
    expect(() => checkTimeZone(zone)).toThrow(expect.objectContaining({ kind: 'invalid_argument', code: 'unknown_time_zone', field: 'time_zone' }));
  });

  it('names the field it was given', () => {
    expect(() => checkTimeZone('Nowhere', 'customer.time_zone')).toThrow(expect.objectContaining({ field: 'customer.time_zone' }));
  });
});

describe('truncateToMinute', () => {
  it('drops seconds and milliseconds', () => {
    expect(truncateToMinute(at('2026-03-08T07:30:59.999Z')).toISOString()).toBe('2026-03-08T07:30:00.000Z');
    expect(truncateToMinute(at('2026-03-08T07:30:00.000Z')).toISOString()).toBe('2026-03-08T07:30:00.000Z');
    expect(truncateToMinute(at('1969-12-31T23:59:30.500Z')).toISOString()).toBe('1969-12-31T23:59:00.000Z');
  });
});
