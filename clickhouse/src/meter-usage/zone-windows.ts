import { DateTime, IANAZone } from 'luxon';

/**
 * Usage windows in a time zone, computed in TypeScript (luxon, the IANA database of Node's ICU)
 * independently of ClickHouse: they pick the rollup a query reads, count the windows, and are the
 * window_start/window_end of every answer (ClickHouse's own zone functions group the rows, and
 * each group must land on one of these boundaries: see meter-usage.rows.ts).
 */

export type MeterWindowSize = 'none' | 'minute' | 'hour' | 'day' | 'month';
/** The rollup tables' windows, in UTC: meter_usage_per_{minute,hour,day}_v1. */
export type RollupGrain = 'minute' | 'hour' | 'day';

export const MINUTE_MS = 60_000;
export const ROLLUP_GRAIN_MS: Record<RollupGrain, number> = { minute: MINUTE_MS, hour: 3_600_000, day: 86_400_000 };
/** Coarsest first: the fewer rows a query merges, the faster it answers. */
const GRAINS_COARSEST_FIRST: readonly RollupGrain[] = ['day', 'hour', 'minute'];

/** An IANA zone name; offsets (`+05:30`) and anything else Intl might accept are not zones for ClickHouse. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/**
 * The zone's name as ICU spells it canonically, or undefined when it is not a zone; '' is UTC.
 * Intl accepts any case and ClickHouse only the exact name, so the name sent is ICU's: Node 24
 * answers the long-standing link names (`asia/kolkata` → `Asia/Calcutta`), the same zone, which
 * old and new tzdata both carry.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (name === '') return 'UTC';
  if (!ZONE_NAME.test(name) || !IANAZone.isValidZone(name)) return undefined;
  return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
}

type Unit = Exclude<MeterWindowSize, 'none'>;
const LUXON_UNIT = { minute: 'minutes', hour: 'hours', day: 'days', month: 'months' } as const;

/** The next boundary after wall-clock time `wall` (ms, read as if UTC): plain calendar arithmetic. */
function nextWallBoundary(wall: number, unit: Unit): number {
  switch (unit) {
    case 'minute':
      return Math.floor(wall / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    case 'hour':
      return Math.floor(wall / 3_600_000) * 3_600_000 + 3_600_000;
    case 'day':
      return Math.floor(wall / 86_400_000) * 86_400_000 + 86_400_000;
    case 'month': {
      const d = new Date(wall);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

/** How far ahead an offset is probed: no zone changes its offset twice within a week. */
const PROBE_MS = 7 * 86_400_000;

/**
 * A zone's UTC offset (ms) at increasing instants, at one Intl lookup per week of range plus a
 * binary search per change, instead of one per window (10,000 lookups cost about 150 ms).
 */
class ForwardOffsets {
  /** The offset is `offset` on [spanStart, spanEnd]; `changesAfter` when known to differ just after. */
  private spanStart: number;
  private spanEnd: number;
  private offset: number;
  private changesAfter = false;

  constructor(
    private readonly zone: IANAZone,
    start: number,
  ) {
    this.spanStart = this.spanEnd = start;
    this.offset = this.lookup(start);
  }

  private lookup(t: number): number {
    return this.zone.offset(t) * MINUTE_MS;
  }

  at(t: number): number {
    if (t < this.spanStart) return this.lookup(t);
    while (t > this.spanEnd) {
      if (this.changesAfter) {
        this.spanStart = this.spanEnd + 1;
        this.spanEnd = this.spanStart;
        this.offset = this.lookup(this.spanStart);
        this.changesAfter = false;
        continue;
      }
      const probe = this.spanEnd + PROBE_MS;
      if (this.lookup(probe) === this.offset) {
        this.spanEnd = probe;
        continue;
      }
      // The change lies in (spanEnd, probe]: find its first instant, to the millisecond.
      let low = this.spanEnd;
      let high = probe;
      while (high - low > 1) {
        const mid = Math.floor((low + high) / 2);
        if (this.lookup(mid) === this.offset) low = mid;
        else high = mid;
      }
      this.spanEnd = low;
      this.changesAfter = true;
    }
    return this.offset;
  }
}

/**
 * The window boundaries of `zone` covering [fromMs, toMs): `b[0]` starts the window holding
 * `fromMs` (at or before it), `b[n]` ends the window holding `toMs - 1` (at or after `toMs`), so
 * `n` windows; for `none`, `[fromMs, toMs]`. Undefined as soon as there are more than
 * `maxWindows`. Windows are calendar units of the zone: a New York day lasts 23 or 25 hours across
 * DST, a Kolkata hour starts at :30 UTC.
 *
 * luxon steps only where the offset changes: between changes a boundary is wall-clock arithmetic
 * (10,000 luxon steps take about a second).
 */
export function zoneWindowBoundaries(fromMs: number, toMs: number, size: MeterWindowSize, zone: string, maxWindows: number): number[] | undefined {
  if (size === 'none') return [fromMs, toMs];
  const tz = IANAZone.create(zone);
  let start = DateTime.fromMillis(fromMs, { zone: tz }).startOf(size).toMillis();
  const offsets = new ForwardOffsets(tz, start);
  const boundaries = [start];
  while (start < toMs) {
    if (boundaries.length > maxWindows) return undefined;
    const offset = offsets.at(start);
    let next = nextWallBoundary(start + offset, size) - offset;
    if (offsets.at(next) !== offset) {
      // The offset changed on the way (DST): let luxon find the boundary, and check it advanced.
      next = DateTime.fromMillis(start, { zone: tz }).plus({ [LUXON_UNIT[size]]: 1 }).startOf(size).toMillis();
      if (next <= start) next = DateTime.fromMillis(start, { zone: tz }).plus({ [LUXON_UNIT[size]]: 1 }).toMillis();
    }
    boundaries.push(next);
    start = next;
  }
  return boundaries;
}

/**
 * The coarsest rollup whose UTC windows every instant falls on (from, to, the window boundaries
 * inside the range, backfill segment bounds), so that each rollup row lies wholly inside one
 * answer window and one segment; undefined when not even minutes do.
 */
export function coarsestRollupGrain(instants: Iterable<number>): RollupGrain | undefined {
  const fits = new Set<RollupGrain>(GRAINS_COARSEST_FIRST);
  for (const t of instants) {
    for (const grain of fits) if (t % ROLLUP_GRAIN_MS[grain] !== 0) fits.delete(grain);
    if (fits.size === 0) return undefined;
  }
  return GRAINS_COARSEST_FIRST.find((g) => fits.has(g));
}
