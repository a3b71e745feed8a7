/**
 * Billing periods (docs/billing.md, "Subscriptions and periods"): monthly, cut in the customer's
 * IANA time zone, so a New York period starts at 04:00 or 05:00 UTC and DST moves nothing.
 * A period is [start, end): an instant exactly on a boundary belongs to the period it starts.
 *
 * Every boundary is computed directly from the schedule (the n-th month after the start), never
 * from the previous boundary, so clamping a day the month lacks cannot make periods drift.
 */

import { DateTime, IANAZone } from 'luxon';
import { PolarisError } from '../errors';
import type { BillingPeriod, BillingSchedule } from './types';

/** Zone names only (`Europe/Paris`, `UTC`): Intl also takes offsets like `+05:00`, which have no DST rules and are not what a customer lives in. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

/**
 * A zone name the tz database knows, returned as given. Not respelled: Intl's canonical form of
 * `Asia/Kolkata` is the older `Asia/Calcutta`, which would surprise the customer who typed it.
 */
export function checkTimeZone(zone: string, field = 'time_zone'): string {
  if (typeof zone !== 'string' || !ZONE_NAME.test(zone) || !IANAZone.isValidZone(zone)) {
    throw new PolarisError('invalid_argument', 'unknown_time_zone', `${field} must be an IANA time zone name, e.g. America/New_York, Europe/Paris or UTC`, field);
  }
  return zone;
}

export function truncateToMinute(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 60_000) * 60_000);
}

function local(date: Date, timeZone: string): DateTime {
  const zone = IANAZone.create(timeZone);
  // A zone stored before it was checked, or one removed from the tz database since: a bug or an
  // operational problem, never something to bill around silently.
  if (!zone.isValid) throw new Error(`billing: unknown time zone ${JSON.stringify(timeZone)}`);
  return DateTime.fromJSDate(date, { zone });
}

/** Months from (year, month) of `a` to those of `b`, ignoring days. */
function monthsBetween(a: DateTime, b: DateTime): number {
  return (b.year - a.year) * 12 + (b.month - a.month);
}

/**
 * A schedule's period boundaries, indexed: boundary 0 is the start, boundary n the start of
 * period n. Both anchors use it, so `periodContaining` and `periodStartingAt` agree by design.
 */
interface Boundaries {
  at(n: number): Date;
  /** The n whose period most likely holds `instant` (off by at most one). */
  guess(instant: DateTime): number;
}

/**
 * Calendar: boundary n ≥ 1 is 00:00 on the 1st of the n-th month after the start's month, in the
 * zone. In the few zones whose DST change happens at midnight (e.g. America/Santiago), 00:00 on
 * that day does not exist; luxon then moves forward by the gap, so the period starts at 01:00.
 */
function calendar(schedule: BillingSchedule): Boundaries {
  const start = local(schedule.startAt, schedule.timeZone);
  return {
    at(n) {
      if (n === 0) return schedule.startAt;
      const month = start.month - 1 + n;
      return DateTime.fromObject(
        { year: start.year + Math.floor(month / 12), month: (month % 12) + 1, day: 1 },
        { zone: start.zone },
      ).toJSDate();
    },
    guess: (instant) => monthsBetween(start, instant),
  };
}

/**
 * Anniversary: boundary n is the start plus n months at the same local wall time, a day the month
 * lacks clamped to its last day (Jan 31 → Feb 28 → Mar 31): luxon's `plus({ months })` does both,
 * always from the start. A wall time that a DST change skips (02:30 on a spring-forward day) is
 * moved forward by the gap (03:30); one that occurs twice is taken at its first occurrence.
 */
function anniversary(schedule: BillingSchedule): Boundaries {
  const start = local(schedule.startAt, schedule.timeZone);
  return {
    at: (n) => (n === 0 ? schedule.startAt : start.plus({ months: n }).toJSDate()),
    guess: (instant) => monthsBetween(start, instant),
  };
}

function boundariesOf(schedule: BillingSchedule): Boundaries {
  switch (schedule.anchor) {
    case 'calendar':
      return calendar(schedule);
    case 'anniversary':
      return anniversary(schedule);
    default:
      throw new Error(`billing: unknown billing anchor ${JSON.stringify(schedule.anchor)}`);
  }
}

function period(b: Boundaries, n: number): BillingPeriod {
  return { start: b.at(n), end: b.at(n + 1) };
}

export function firstPeriod(schedule: BillingSchedule): BillingPeriod {
  return period(boundariesOf(schedule), 0);
}

/** The period holding `instant`; an instant before the start gets the first period. */
export function periodContaining(schedule: BillingSchedule, instant: Date): BillingPeriod {
  const b = boundariesOf(schedule);
  if (instant.getTime() < schedule.startAt.getTime()) return period(b, 0);
  let n = Math.max(0, b.guess(local(instant, schedule.timeZone)));
  // Boundaries grow by at least 28 days, so the guess is at most one period off either way.
  while (n > 0 && b.at(n).getTime() > instant.getTime()) n -= 1;
  while (b.at(n + 1).getTime() <= instant.getTime()) n += 1;
  return period(b, n);
}

/** The period that begins exactly at `start`; anything but a boundary is a bug in the caller. */
export function periodStartingAt(schedule: BillingSchedule, start: Date): BillingPeriod {
  const found = periodContaining(schedule, start);
  if (found.start.getTime() !== start.getTime()) {
    throw new Error(`billing: ${start.toISOString()} is not a period boundary of the subscription starting ${schedule.startAt.toISOString()} (nearest start ${found.start.toISOString()})`);
  }
  return found;
}
