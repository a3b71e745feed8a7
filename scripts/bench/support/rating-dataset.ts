import { toClickHouseDateTime, type EventsRawRow } from '@polaris/clickhouse';
import { parseJsonExact } from '@polaris/shared/contracts';
import { compileMeter, extractMeter, type MeterDefinition } from '@polaris/shared/meters';

/**
 * bench:rating's synthetic world: `subscriptions` customers, one subject each, on one plan of a
 * flat fee and three metered prices, each on its own meter of one event type, and a few events
 * per subject inside one closed calendar month. Deterministic (a per-subject hash, no clock but
 * the period), so runs compare. What each invoice must say is computed here in integer cents,
 * from the generated events, independently of the pricing code it checks.
 */

export const EVENT_TYPE = 'bench.call';
const HOUR_MS = 3_600_000;

/** SUM (batched across customers), COUNT (batched), UNIQUE_COUNT (read per customer). */
export const RATING_METERS: Array<{ slug: string; definition: MeterDefinition }> = [
  { slug: 'bench_tokens', definition: { eventType: EVENT_TYPE, aggregation: 'SUM', valuePath: '$.tokens', dimensions: [] } },
  { slug: 'bench_calls', definition: { eventType: EVENT_TYPE, aggregation: 'COUNT', dimensions: [] } },
  { slug: 'bench_users', definition: { eventType: EVENT_TYPE, aggregation: 'UNIQUE_COUNT', uniquePath: '$.user', dimensions: [] } },
];

const TOKENS_FREE_QUOTA_MILLI = 50_000n;
/**
 * USD. The figures below (FREE_QUOTA, 0.0125, the tiers, the package) are repeated by hand in
 * expectedInvoice: the expectation must not come from the code under test.
 */
export const RATING_PRICES = [
  { key: 'platform', name: 'Platform fee', model: 'FLAT', amount: '20' },
  { key: 'tokens', name: 'Tokens', model: 'PER_UNIT', meterSlug: 'bench_tokens', unitPrice: '0.0125', freeQuota: '50' },
  {
    key: 'calls',
    name: 'Calls',
    model: 'GRADUATED',
    meterSlug: 'bench_calls',
    tiers: [
      { upTo: '3', unitPrice: '0.5' },
      { unitPrice: '0.25', flatFee: '1' },
    ],
  },
  { key: 'users', name: 'Active users', model: 'PACKAGE', meterSlug: 'bench_users', packageSize: '2', packagePrice: '3' },
];
export const RATING_PRICE_KEYS = RATING_PRICES.map((p) => p.key);

const pad = (i: number) => String(i).padStart(6, '0');
export const subjectOf = (i: number): string => `bench-subject-${pad(i)}`;
export const externalIdOf = (i: number): string => `bench-customer-${pad(i)}`;

/** 32-bit mix of (subject, event, salt): a cheap deterministic spread. */
function hash(i: number, j: number, salt: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(j + 1, 0xc2b2ae35) ^ Math.imul(salt + 7, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

export interface BenchEvent {
  subject: string;
  id: string;
  timeMs: number;
  /** 0 to 59.999, three decimals. */
  tokensMilli: bigint;
  user: string;
}

/** Subject i's events in [periodStart + 1 h, periodEnd − 1 h): 2 to 6 of them, 1 to 4 distinct users. */
export function eventsOf(i: number, period: { startMs: number; endMs: number }): BenchEvent[] {
  const count = 2 + (hash(i, 0, 1) % 5);
  const span = period.endMs - period.startMs - 2 * HOUR_MS;
  return Array.from({ length: count }, (_, j) => ({
    subject: subjectOf(i),
    id: `${subjectOf(i)}-${j}`,
    timeMs: period.startMs + HOUR_MS + (hash(i, j, 2) % span),
    tokensMilli: BigInt(hash(i, j, 3) % 60_000),
    user: `user-${hash(i, j, 4) % 4}`,
  }));
}

const milliText = (milli: bigint) => `${milli / 1000n}.${String(milli % 1000n).padStart(3, '0')}`;

/**
 * events_raw rows as the sink writes them: `data` as the event carried it, and the three meter
 * values extracted by the sink's own extractor (one row per event, three values per row).
 */
export function eventRows(organizationId: string, events: readonly BenchEvent[], versionIds: readonly string[]): EventsRawRow[] {
  const compiled = RATING_METERS.map((m) => compileMeter(m.definition));
  return events.map((e, n) => {
    const data = `{"tokens":${milliText(e.tokensMilli)},"user":"${e.user}"}`;
    const values = compiled.map((meter) => extractMeter(meter, parseJsonExact(data)));
    return {
      namespace: organizationId,
      id: e.id,
      source: 'bench-rating',
      type: EVENT_TYPE,
      subject: e.subject,
      time: toClickHouseDateTime(e.timeMs),
      time_ms: e.timeMs,
      data,
      ingested_at: toClickHouseDateTime(e.timeMs),
      ingest_seq: String(n + 1),
      catalog_revision: '1',
      meter_version_ids: [...versionIds],
      meter_values: values.map((v) => v.value),
      meter_unique_keys: values.map((v) => v.uniqueKey),
      meter_dimensions: values.map((v) => v.dimensions),
      meter_valid: values.map((v) => (v.valid ? 1 : 0)),
    };
  });
}

/** One expected invoice line: the meter's quantity in milli-units (flat: 1) and the amount in cents. */
export interface ExpectedLine {
  quantityMilli: bigint;
  cents: bigint;
}

export interface ExpectedInvoice {
  /** By price key. */
  lines: Map<string, ExpectedLine>;
  totalCents: bigint;
}

/** n / d rounded half to even (n, d > 0). */
function divideHalfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const twice = 2n * (n % d);
  return twice > d || (twice === d && q % 2n === 1n) ? q + 1n : q;
}

/** What subject i's invoice must bill, worked out by hand from its events (docs/billing.md, Price models). */
export function expectedInvoice(events: readonly BenchEvent[]): ExpectedInvoice {
  const tokensMilli = events.reduce((sum, e) => sum + e.tokensMilli, 0n);
  const calls = BigInt(events.length);
  const users = BigInt(new Set(events.map((e) => e.user)).size);
  // PER_UNIT 0.0125 above a free quota of 50: milli-units × 125 is in 1e-7 dollars, 1e5 of them a cent.
  const billableMilli = tokensMilli > TOKENS_FREE_QUOTA_MILLI ? tokensMilli - TOKENS_FREE_QUOTA_MILLI : 0n;
  const tokensCents = billableMilli === 0n ? 0n : divideHalfEven(billableMilli * 125n, 100_000n);
  // GRADUATED (0,3] at 0.50, (3,∞) at 0.25 plus 1.00 once a call reaches the tier.
  const callsCents = (calls < 3n ? calls : 3n) * 50n + (calls > 3n ? (calls - 3n) * 25n + 100n : 0n);
  // PACKAGE of 2 users at 3.00, a started package whole.
  const usersCents = ((users + 1n) / 2n) * 300n;
  const lines = new Map<string, ExpectedLine>([
    ['platform', { quantityMilli: 1000n, cents: 2000n }],
    ['tokens', { quantityMilli: tokensMilli, cents: tokensCents }],
    ['calls', { quantityMilli: calls * 1000n, cents: callsCents }],
    ['users', { quantityMilli: users * 1000n, cents: usersCents }],
  ]);
  return { lines, totalCents: [...lines.values()].reduce((sum, l) => sum + l.cents, 0n) };
}

/** Exact decimal text ("12.5", "-0.125") as an integer of 10^-scale units; more digits than that is an error. */
export function scaled(text: string, scale: number): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > scale || !/^\d+$/.test(whole) || !/^\d*$/.test(fraction)) throw new Error(`${JSON.stringify(text)} is not a decimal with at most ${scale} fractional digits`);
  const units = BigInt(whole + trimmed.padEnd(scale, '0'));
  return negative ? -units : units;
}

export const centsText = (cents: bigint): string => `${cents < 0n ? '-' : ''}${(cents < 0n ? -cents : cents) / 100n}.${String((cents < 0n ? -cents : cents) % 100n).padStart(2, '0')}`;

/** The closed calendar month before `now`'s, UTC: the one period every subscription bills. */
export function lastClosedMonth(now: Date): { startMs: number; endMs: number } {
  return { startMs: Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1), endMs: Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) };
}
