/**
 * Test support for meter usage (integration tests and the compat check; never imported by
 * product code): events with meter values, the rows that store them, and the expected answer
 * computed independently of ClickHouse and of zone-windows.ts (luxon's startOf per event,
 * decimal.js sums), so a test can hold the rollups, the raw path and this against each other.
 */
import Decimal from 'decimal.js';
import { DateTime } from 'luxon';
import { toClickHouseDateTime } from '../date-time';
import type { EventsRawRow } from '../events-raw/events-raw.schema';
import type { MeterValuesBackfillRow } from '../meter-backfill/meter-backfill.schema';
import { meterUsageQuerySchema, type MeterUsageQuery } from './meter-usage.params';
import type { MeterUsageResult, MeterUsageRow } from './meter-usage.rows';

export interface MeterElement {
  versionId: string;
  valid: boolean;
  value: string;
  uniqueKey: string;
  dimensions: string[];
}

export interface MeterTestEvent {
  namespace: string;
  id: string;
  source: string;
  subject: string;
  timeMs: number;
  revision: string;
  /** Stored with the event (the live path); empty for an event stored before its meters. */
  meters: MeterElement[];
}

/** The events_raw row the sink would write for the event. */
export function eventsRawRowOf(e: MeterTestEvent, ingestSeq = '1'): EventsRawRow {
  return {
    namespace: e.namespace,
    id: e.id,
    source: e.source,
    type: 'llm.completion',
    subject: e.subject,
    time: toClickHouseDateTime(e.timeMs),
    time_ms: e.timeMs,
    data: '{}',
    ingested_at: toClickHouseDateTime(e.timeMs),
    ingest_seq: ingestSeq,
    catalog_revision: e.revision,
    meter_version_ids: e.meters.map((m) => m.versionId),
    meter_values: e.meters.map((m) => m.value),
    meter_unique_keys: e.meters.map((m) => m.uniqueKey),
    meter_dimensions: e.meters.map((m) => m.dimensions),
    meter_valid: e.meters.map((m) => (m.valid ? 1 : 0)),
  };
}

/** The meter_values_backfill_v1 row a backfill run would write for the event's value of `m`. */
export function backfillRowOf(e: MeterTestEvent, m: MeterElement, run: string): MeterValuesBackfillRow {
  return {
    namespace: e.namespace,
    meter_version_id: m.versionId,
    backfill_run: run,
    subject: e.subject,
    time: toClickHouseDateTime(e.timeMs),
    time_ms: e.timeMs,
    event_key: `${e.source}\n${e.id}`,
    value: m.value,
    unique_key: m.uniqueKey,
    dimensions: m.dimensions,
    valid: m.valid ? 1 : 0,
  };
}

/** A seeded generator (mulberry32), so a failing case is the same case on the next run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pick = <T>(random: () => number, xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;

/** A Decimal128(9) value of every kind: integers, 9 fractional digits, negatives, up to 1e17. */
function randomValue(random: () => number): string {
  const kind = random();
  if (kind < 0.3) return String(Math.floor(random() * 1000));
  const integer = kind < 0.9 ? Math.floor(random() * 10_000) : Math.floor(random() * 1e17);
  const fraction = String(Math.floor(random() * 1e9)).padStart(9, '0').replace(/0+$/, '');
  const text = fraction ? `${integer}.${fraction}` : String(integer);
  return random() < 0.2 && text !== '0' ? `-${text}` : text;
}

export interface GenerateOptions {
  namespace: string;
  versionId: string;
  /** A second meter on the same events, which must never leak into the first's answers. */
  otherVersionId: string;
  seed: number;
  /** [fromMs, toMs) ranges to spread events over, `perRange` each. */
  ranges: ReadonlyArray<readonly [number, number]>;
  perRange: number;
  subjects: readonly string[];
}

export const MODELS = ['gpt', 'claude', ''] as const;
export const REGIONS = ['eu', 'us'] as const;

/**
 * Events with values for two meter versions (dimensions model, region), 15% invalid, some
 * sharing a millisecond (LATEST's tie-break), and a few with no meters at all.
 */
export function generateEvents(o: GenerateOptions): MeterTestEvent[] {
  const random = seededRandom(o.seed);
  const events: MeterTestEvent[] = [];
  for (const [from, to] of o.ranges) {
    for (let i = 0; i < o.perRange; i++) {
      const previous = events.at(-1);
      const timeMs = previous && random() < 0.1 && previous.timeMs >= from && previous.timeMs < to ? previous.timeMs : from + Math.floor(random() * (to - from));
      const element = (versionId: string): MeterElement => {
        const valid = random() >= 0.15;
        const dimensions = [pick(random, MODELS), pick(random, REGIONS)];
        return valid
          ? { versionId, valid, value: randomValue(random), uniqueKey: pick(random, ['s:a', 's:b', 'n:1', 'b:true', 's:', '']), dimensions }
          : { versionId, valid, value: '0', uniqueKey: '', dimensions };
      };
      const metered = random() >= 0.05;
      events.push({
        namespace: o.namespace,
        id: `e${events.length}`,
        source: pick(random, ['svc-a', 'svc-b']),
        subject: pick(random, o.subjects),
        timeMs,
        revision: '3',
        meters: metered ? [element(o.versionId), element(o.otherVersionId)] : [],
      });
    }
  }
  return events;
}

/** One event's value of the queried version, and which path stored it (run '0' = live). */
export interface Contribution {
  event: MeterTestEvent;
  meter: MeterElement;
  run: string;
}

export function liveContributions(events: readonly MeterTestEvent[]): Contribution[] {
  return events.flatMap((event) => event.meters.map((meter) => ({ event, meter, run: '0' })));
}

const ExactDecimal = Decimal.clone({ precision: 80 });
const UNIT_PLURAL = { minute: 'minutes', hour: 'hours', day: 'days', month: 'months' } as const;

/** The window of one event, by luxon alone: startOf in the zone, and one calendar unit on. */
function windowOf(timeMs: number, q: ReturnType<typeof meterUsageQuerySchema.parse>, zone: string): [number, number] {
  if (q.windowSize === 'none') return [q.fromMs, q.toMs];
  const start = DateTime.fromMillis(timeMs, { zone }).startOf(q.windowSize);
  return [start.toMillis(), start.plus({ [UNIT_PLURAL[q.windowSize]]: 1 }).toMillis()];
}

const canonical = (d: Decimal) => (d.isZero() ? '0' : d.toFixed());

/** What meterUsage.query must answer for these contributions, computed without ClickHouse. */
export function expectedMeterUsage(contributions: readonly Contribution[], query: MeterUsageQuery): MeterUsageResult {
  const q = meterUsageQuerySchema.parse(query);
  const zone = q.timeZone === '' ? 'UTC' : q.timeZone;
  type Group = { row: MeterUsageRow; keys: string[]; valid: number; sum: Decimal; min?: Decimal; max?: Decimal; latest?: { key: [number, string]; value: string }; unique: Set<string> };
  const groups = new Map<string, Group>();
  for (const { event: e, meter: m, run } of contributions) {
    if (e.namespace !== q.namespace || m.versionId !== q.meterVersionId || e.timeMs < q.fromMs || e.timeMs >= q.toMs) continue;
    if (run !== '0' && !q.segments.some((s) => s.backfillRunId === run && e.timeMs >= s.fromMs && e.timeMs < s.toMs)) continue;
    if (q.subjects.length > 0 && !q.subjects.includes(e.subject)) continue;
    if (!q.dimensionFilters.every((f) => f.values.includes(m.dimensions[f.index] ?? ''))) continue;
    const [start, end] = windowOf(e.timeMs, q, zone);
    const subject = q.groupBySubject ? e.subject : '';
    const dims = q.groupByDimensions.map((d) => m.dimensions[d.index] ?? '');
    const key = JSON.stringify([start, subject, dims]);
    let g = groups.get(key);
    if (!g) {
      const row = { windowStartMs: start, windowEndMs: end, subject, dimensions: Object.fromEntries(q.groupByDimensions.map((d, i) => [d.name, dims[i] ?? ''])), eventCount: '0', invalidCount: '0' };
      g = { row, keys: [subject, ...dims], valid: 0, sum: new ExactDecimal(0), unique: new Set() };
      groups.set(key, g);
    }
    g.row.eventCount = String(Number(g.row.eventCount) + 1);
    if (!m.valid) {
      g.row.invalidCount = String(Number(g.row.invalidCount) + 1);
      continue;
    }
    const v = new ExactDecimal(m.value);
    g.valid++;
    g.sum = g.sum.plus(v);
    if (g.min === undefined || v.lt(g.min)) g.min = v;
    if (g.max === undefined || v.gt(g.max)) g.max = v;
    const order: [number, string] = [e.timeMs, `${e.source}\n${e.id}`];
    if (!g.latest || order[0] > g.latest.key[0] || (order[0] === g.latest.key[0] && order[1] > g.latest.key[1])) g.latest = { key: order, value: m.value };
    if (m.uniqueKey !== '') g.unique.add(m.uniqueKey);
  }
  const rows = [...groups.values()]
    .sort((a, b) => a.row.windowStartMs - b.row.windowStartMs || compareKeys(a.keys, b.keys))
    .map((g) => {
      const value = ((): string | undefined => {
        switch (q.aggregation) {
          case 'SUM':
            return canonical(g.sum);
          case 'COUNT':
            return g.row.eventCount;
          case 'UNIQUE_COUNT':
            return String(g.unique.size);
          case 'MIN':
            return g.min && canonical(g.min);
          case 'MAX':
            return g.max && canonical(g.max);
          case 'AVG':
            return g.valid === 0 ? undefined : canonical(new ExactDecimal(g.sum.div(g.valid).toFixed(9, Decimal.ROUND_HALF_EVEN)));
          case 'LATEST':
            return g.latest && canonical(new ExactDecimal(g.latest.value));
        }
      })();
      return value === undefined ? g.row : { ...g.row, value };
    });
  const invalidCount = rows.reduce((n, r) => n + Number(r.invalidCount), 0);
  return { rows, invalidCount: String(invalidCount) };
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    // ClickHouse compares bytes; the fixtures' strings are ASCII, where code units agree.
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
