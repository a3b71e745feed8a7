import { DateTime } from 'luxon';
import { parseJsonExact } from '@polaris/shared/contracts';
import { compileMeter, extractMeter, type MeterDefinition } from '@polaris/shared/meters';
import type { MeterEvent } from './meter-events';
import type { UsageArgs, UsageRowView, UsageView } from './meters';

/**
 * What `usage(metric: …)` must answer, computed in the test from the events it sent: each event's
 * contribution from the one extractor (`@polaris/shared/meters`, docs/meters.md "What a value
 * is"), then windows (luxon, in the zone), groups and aggregates computed here, independently of
 * ClickHouse and of the product's decimal code: values as integer nanos (BigInt), AVG rounded half
 * to even at 9 digits, LATEST by (time, source + '\n' + id).
 */

/** A row as compared: window bounds in epoch ms, so the API's date spelling does not matter. */
export interface ComparableRow {
  windowStartMs: number;
  windowEndMs: number;
  subject: string | null;
  dimensions: Record<string, string>;
  value: string | null;
  eventCount: string;
  invalidCount: string;
}

export interface ComparableUsage {
  total: string | null;
  invalidCount: string;
  rows: ComparableRow[];
}

const SCALE = 9;
const ONE = 10n ** BigInt(SCALE);

/** Canonical decimal text (as the extractor writes it) → integer nanos. */
function nanos(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const n = BigInt(whole) * ONE + BigInt(fraction.padEnd(SCALE, '0'));
  return negative ? -n : n;
}

/** Nanos → canonical decimal text: no trailing zeros, no `-0`. */
function decimalText(n: bigint): string {
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const fraction = (abs % ONE).toString().padStart(SCALE, '0').replace(/0+$/, '');
  const text = `${abs / ONE}${fraction ? `.${fraction}` : ''}`;
  return negative && text !== '0' ? `-${text}` : text;
}

/** sum / count at 9 fractional digits, rounded half to even. */
function averageNanos(sum: bigint, count: bigint): bigint {
  const q = sum / count;
  const r = sum % count;
  const twiceRest = 2n * (r < 0n ? -r : r);
  const away = twiceRest > count || (twiceRest === count && q % 2n !== 0n);
  if (!away) return q;
  return sum < 0n ? q - 1n : q + 1n;
}

interface Contribution {
  timeMs: number;
  /** source + '\n' + id, the LATEST tie-break (compared as bytes, as ClickHouse does). */
  eventKey: Buffer;
  subject: string;
  valid: boolean;
  value: bigint;
  uniqueKey: string;
  dimensions: string[];
}

/** The first copy of each identity: what the sink stores (later copies, even with other data, change nothing). */
function storedCopies(events: readonly MeterEvent[]): MeterEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => {
    const key = `${e.source}\n${e.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function windowOf(timeMs: number, args: UsageArgs, fromMs: number, toMs: number): [number, number] {
  const size = args.windowSize ?? 'NONE';
  if (size === 'NONE') return [fromMs, toMs];
  const t = DateTime.fromMillis(timeMs, { zone: args.windowTimeZone ?? 'UTC' });
  const unit = ({ MINUTE: 'minute', HOUR: 'hour', DAY: 'day', MONTH: 'month' } as const)[size];
  const start = t.startOf(unit);
  // luxon adds hours as elapsed time and days and months on the zone's calendar (23 or 25 h days).
  const end = start.plus({ [`${unit}s`]: 1 }).startOf(unit);
  return [start.toMillis(), end.toMillis()];
}

function aggregate(definition: MeterDefinition, items: readonly Contribution[]): { value: string | null; events: number; invalid: number } {
  const valid = items.filter((c) => c.valid);
  const invalid = items.length - valid.length;
  const events = items.length;
  switch (definition.aggregation) {
    case 'COUNT':
      return { value: String(events), events, invalid };
    case 'SUM':
      return { value: decimalText(valid.reduce((s, c) => s + c.value, 0n)), events, invalid };
    case 'UNIQUE_COUNT':
      return { value: String(new Set(valid.map((c) => c.uniqueKey).filter((k) => k !== '')).size), events, invalid };
    case 'MIN':
    case 'MAX': {
      if (valid.length === 0) return { value: null, events, invalid };
      const pickMin = definition.aggregation === 'MIN';
      const best = valid.reduce((b, c) => (pickMin ? (c.value < b ? c.value : b) : c.value > b ? c.value : b), (valid[0] as Contribution).value);
      return { value: decimalText(best), events, invalid };
    }
    case 'AVG': {
      if (valid.length === 0) return { value: null, events, invalid };
      return { value: decimalText(averageNanos(valid.reduce((s, c) => s + c.value, 0n), BigInt(valid.length))), events, invalid };
    }
    case 'LATEST': {
      if (valid.length === 0) return { value: null, events, invalid };
      const later = (a: Contribution, b: Contribution) => (a.timeMs !== b.timeMs ? a.timeMs > b.timeMs : Buffer.compare(a.eventKey, b.eventKey) > 0);
      const latest = valid.reduce((b, c) => (later(c, b) ? c : b));
      return { value: decimalText(latest.value), events, invalid };
    }
  }
}

/**
 * The usage the API must answer for `args` (from and to required) over the events sent (every
 * copy; the first of each identity counts), for a meter with `definition`.
 */
export function expectedUsage(events: readonly MeterEvent[], definition: MeterDefinition, args: UsageArgs): ComparableUsage {
  if (!args.from || !args.to) throw new Error('expectedUsage needs from and to');
  const fromMs = Date.parse(args.from);
  const toMs = Date.parse(args.to);
  const meter = compileMeter(definition);
  const dimensionIndex = new Map(definition.dimensions.map((d, i) => [d.name, i]));
  const indexOf = (name: string) => {
    const i = dimensionIndex.get(name);
    if (i === undefined) throw new Error(`${name} is not a dimension of the meter`);
    return i;
  };
  const groupBySubject = (args.groupBy ?? []).includes('subject');
  const groupDims = (args.groupBy ?? []).filter((g) => g !== 'subject').map((name) => ({ name, index: indexOf(name) }));
  const filters = (args.filters ?? []).map((f) => ({ index: indexOf(f.dimension), values: new Set(f.in) }));
  const subjects = args.subjects && args.subjects.length > 0 ? new Set(args.subjects) : undefined;

  const contributions: Contribution[] = storedCopies(events)
    .filter((e) => e.type === definition.eventType && e.timeMs >= fromMs && e.timeMs < toMs)
    .filter((e) => !subjects || subjects.has(e.subject))
    .map((e) => {
      const x = extractMeter(meter, parseJsonExact(e.dataJson));
      return {
        timeMs: e.timeMs,
        eventKey: Buffer.from(`${e.source}\n${e.id}`, 'utf8'),
        subject: e.subject,
        valid: x.valid,
        value: nanos(x.value),
        uniqueKey: x.uniqueKey,
        dimensions: x.dimensions,
      };
    })
    .filter((c) => filters.every((f) => f.values.has(c.dimensions[f.index] ?? '')));

  const groups = new Map<string, { start: number; end: number; subject: string | null; dimensions: Record<string, string>; items: Contribution[] }>();
  for (const c of contributions) {
    const [start, end] = windowOf(c.timeMs, args, fromMs, toMs);
    const subject = groupBySubject ? c.subject : null;
    const dimensions = Object.fromEntries(groupDims.map((d) => [d.name, c.dimensions[d.index] ?? '']));
    const key = JSON.stringify([start, subject, groupDims.map((d) => dimensions[d.name])]);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { start, end, subject, dimensions, items: [] }));
    group.items.push(c);
  }
  const rows = [...groups.values()].map((g): ComparableRow => {
    const a = aggregate(definition, g.items);
    return { windowStartMs: g.start, windowEndMs: g.end, subject: g.subject, dimensions: g.dimensions, value: a.value, eventCount: String(a.events), invalidCount: String(a.invalid) };
  });
  const whole = aggregate(definition, contributions);
  return {
    total: whole.value,
    invalidCount: String(whole.invalid),
    rows: sortedRows(rows),
  };
}

/** Rows in one order (window, subject, dimensions), so answers compare whatever order they came in. */
export function sortedRows(rows: ComparableRow[]): ComparableRow[] {
  const key = (r: ComparableRow) => JSON.stringify([String(r.windowStartMs).padStart(16, '0'), r.subject, Object.entries(r.dimensions).sort()]);
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The API's answer in the comparable shape. */
export function comparable(usage: UsageView): ComparableUsage {
  return {
    total: usage.total,
    invalidCount: usage.invalidCount,
    rows: sortedRows(
      usage.rows.map((r: UsageRowView) => ({
        windowStartMs: Date.parse(r.windowStart),
        windowEndMs: Date.parse(r.windowEnd),
        subject: r.subject,
        dimensions: r.dimensions,
        value: r.value,
        eventCount: r.eventCount,
        invalidCount: r.invalidCount,
      })),
    ),
  };
}
