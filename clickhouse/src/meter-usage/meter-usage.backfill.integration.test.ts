import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEventsRaw } from '../events-raw/events-raw.queries';
import { insertBackfillValues, readBackfillEvents } from '../meter-backfill/meter-backfill.queries';
import type { StoredEvent } from '../meter-backfill/meter-backfill.schema';
import { throwawayDatabase, type ThrowawayDatabase } from '../testing/throwaway-database';
import { backfillRowOf, eventsRawRowOf, expectedMeterUsage, generateEvents, liveContributions, type Contribution, type MeterTestEvent } from './meter-usage.fixtures';
import type { MeterUsageQuery } from './meter-usage.params';
import { queryMeterUsage } from './meter-usage.query';
import { queryMeterUsageRaw } from './meter-usage.raw';

// The rollups against the raw path when values come from backfill runs and when an event reaches
// events_raw twice: the two cases where the rollups hold something events_raw does not say.

const V = '201';
const OTHER_V = '202';
const utc = (iso: string) => DateTime.fromISO(iso, { zone: 'UTC' }).toMillis();
const RANGE = [utc('2026-03-05'), utc('2026-03-12')] as const;
/** Events before it were stored before V existed (revision 1, no V); the backfill counts them. */
const CUT = utc('2026-03-08');
const AGGREGATIONS = ['SUM', 'COUNT', 'UNIQUE_COUNT', 'MIN', 'MAX', 'AVG', 'LATEST'] as const;
const WINDOWS: Array<Pick<MeterUsageQuery, 'windowSize' | 'timeZone' | 'groupBySubject' | 'groupByDimensions'>> = [
  { windowSize: 'day', timeZone: 'UTC', groupBySubject: true },
  { windowSize: 'hour', timeZone: 'America/New_York', groupByDimensions: [{ index: 0, name: 'model' }] },
  { windowSize: 'none', timeZone: 'Asia/Kolkata' },
];

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`fixture: no ${what}`);
  return value;
}

/** The same events in another namespace; only the namespace differs in the answers' inputs. */
const inNamespace = (events: readonly MeterTestEvent[], namespace: string) => events.map((e) => ({ ...e, namespace }));

describe('meter usage with backfill runs (ClickHouse 18.16)', () => {
  let db: ThrowawayDatabase;
  const ns = randomUUID();
  const twin = randomUUID();
  const all = generateEvents({ namespace: ns, versionId: V, otherVersionId: OTHER_V, seed: 5, ranges: [RANGE], perRange: 1_500, subjects: ['acme', 'globex'] });
  const old = all.filter((e) => e.timeMs < CUT && e.meters.length > 0);
  const live = all.filter((e) => !old.includes(e));
  const values = new Map(old.map((e) => [e.id, e.meters.find((m) => m.versionId === V)]));
  const valueOf = (id: string) => must(values.get(id), `value of ${id}`);
  const segments = [{ backfillRunId: '5', fromMs: RANGE[0], toMs: CUT }];
  let read: StoredEvent[] = [];

  beforeAll(async () => {
    db = await throwawayDatabase();
    // Before V: stored with revision 1 and only the other meter's values.
    await insertEventsRaw(db.client, old.map((e) => eventsRawRowOf({ ...e, revision: '1', meters: e.meters.filter((m) => m.versionId !== V) })));
    await insertEventsRaw(db.client, live.map((e) => eventsRawRowOf(e)));
    // The twin: every event stored with V's values inline, as if V had always been live.
    await insertEventsRaw(db.client, inNamespace(all, twin).map((e) => eventsRawRowOf(e)));

    // Run 4 died half way: its rows are in the rollups and must never be read.
    await insertBackfillValues(db.client, old.slice(0, 300).map((e) => backfillRowOf(e, valueOf(e.id), '4')));
    // Run 5 pages through exactly the events the live path missed, and completes.
    for (let page = await readBackfillEvents(db.client, { namespace: ns, eventType: 'llm.completion', belowRevision: '2', limit: 137 }); page.length > 0; ) {
      read = [...read, ...page];
      await insertBackfillValues(db.client, page.map((s) => backfillRowOf(must(old.find((e) => e.id === s.id), s.id), valueOf(s.id), '5')));
      page = await readBackfillEvents(db.client, { namespace: ns, eventType: 'llm.completion', belowRevision: '2', limit: 137, after: page.at(-1) });
    }
    // Run 5 rows outside its segment (after CUT) would double live events if read.
    await insertBackfillValues(db.client, live.slice(0, 50).flatMap((e) => e.meters.filter((m) => m.versionId === V).map((m) => backfillRowOf(e, m, '5'))));
  });
  afterAll(() => db?.drop());

  it('reads every event stored before V exactly once, and nothing else', () => {
    expect(read.map((s) => s.id).sort()).toEqual(old.map((e) => e.id).sort());
  });

  describe.each(WINDOWS)('$windowSize windows in $timeZone', (windows) => {
    it.each(AGGREGATIONS)('%s: live + completed run = raw of the twin = computed in TS', async (aggregation) => {
      const query = (namespace: string): MeterUsageQuery => ({ ...windows, namespace, meterVersionId: V, aggregation, fromMs: RANGE[0], toMs: RANGE[1], segments });
      const contributions: Contribution[] = [...liveContributions(live), ...old.map((e) => ({ event: e, meter: valueOf(e.id), run: '5' }))];
      const expected = expectedMeterUsage(contributions, query(ns));
      expect(await queryMeterUsage(db.client, query(ns))).toEqual(expected);
      expect(await queryMeterUsageRaw(db.client, query(twin))).toEqual(expected);
    });
  });

  it('counts nothing before CUT without the segment, and run 4 nowhere', async () => {
    const base: MeterUsageQuery = { namespace: ns, meterVersionId: V, aggregation: 'COUNT', fromMs: RANGE[0], toMs: CUT, windowSize: 'none' };
    expect((await queryMeterUsage(db.client, base)).rows).toEqual([]);
    const withDeadRun = await queryMeterUsage(db.client, { ...base, segments: [{ backfillRunId: '4', fromMs: RANGE[0], toMs: CUT }] });
    expect(withDeadRun.rows[0]?.eventCount).toBe('300');
  });
});

describe('meter usage when an event reaches events_raw twice (ClickHouse 18.16)', () => {
  let db: ThrowawayDatabase;
  const ns = randomUUID();
  const events = generateEvents({ namespace: ns, versionId: V, otherVersionId: OTHER_V, seed: 11, ranges: [RANGE], perRange: 600, subjects: ['acme', 'globex'] });
  const copies = events.filter((_, i) => i % 7 === 0);

  beforeAll(async () => {
    db = await throwawayDatabase();
    await insertEventsRaw(db.client, events.map((e) => eventsRawRowOf(e)));
    // Exact redeliveries (same rows, same broker offset) that slipped past the sink's probe.
    await insertEventsRaw(db.client, copies.map((e) => eventsRawRowOf(e)));
    // Merging collapses the copies in events_raw; the views fired on the insert, before it.
    await db.client.command({ query: 'OPTIMIZE TABLE events_raw FINAL' });
  });
  afterAll(() => db?.drop());

  it.each(AGGREGATIONS)('%s: raw counts each event once; the rollups count the copy as another event', async (aggregation) => {
    const query: MeterUsageQuery = { namespace: ns, meterVersionId: V, aggregation, fromMs: RANGE[0], toMs: RANGE[1], windowSize: 'day', groupBySubject: true };
    const once = expectedMeterUsage(liveContributions(events), query);
    const twice = expectedMeterUsage(liveContributions([...events, ...copies]), query);
    expect(await queryMeterUsageRaw(db.client, query)).toEqual(once);
    expect(await queryMeterUsage(db.client, query)).toEqual(twice);
    // A copy changes no UNIQUE_COUNT, MIN, MAX or LATEST; it adds to SUM, COUNT, AVG's weights.
    if (['UNIQUE_COUNT', 'MIN', 'MAX', 'LATEST'].includes(aggregation)) expect(twice.rows.map((r) => r.value)).toEqual(once.rows.map((r) => r.value));
    else expect(twice).not.toEqual(once);
  });
});
