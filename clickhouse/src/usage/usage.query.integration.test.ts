import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toClickHouseDateTime } from '../date-time';
import { insertEventsRaw } from '../events-raw/events-raw.queries';
import type { EventsRawRow } from '../events-raw/events-raw.schema';
import { throwawayDatabase, type ThrowawayDatabase } from '../testing/throwaway-database';
import { queryUsage, type UsageQuery } from './usage.query';

const ns = randomUUID();
const other = randomUUID();
const t0 = Date.UTC(2026, 2, 1, 10, 0, 0); // 10:00:00.000

function row(namespace: string, id: string, timeMs: number, subject: string, data: Record<string, unknown>, type = 'tokens'): EventsRawRow {
  return {
    namespace, id, source: 'it', type, subject, time: toClickHouseDateTime(timeMs), time_ms: timeMs,
    data: JSON.stringify(data), ingested_at: toClickHouseDateTime(timeMs), ingest_seq: '1',
  };
}

const q = (overrides: Partial<UsageQuery>): UsageQuery => ({
  namespace: ns, eventType: 'tokens', fromMs: t0, toMs: t0 + 2 * 3_600_000, windowSize: 'none', subjects: [], groupBySubject: false, ...overrides,
});

describe('usage.query on ClickHouse', () => {
  let db: ThrowawayDatabase;

  beforeAll(async () => {
    db = await throwawayDatabase();
    await insertEventsRaw(db.client, [
      row(ns, 'a', t0, 'acme', { n: 1.5 }),                      // first ms of the range: included
      row(ns, 'b', t0 + 999, 'acme', { n: 2 }),
      row(ns, 'c', t0 + 3_600_000 + 1, 'globex', { n: 10 }),     // second hour
      row(ns, 'd', t0 + 3_600_000 + 2, 'globex', { n: 'ten' }),  // not a number: not summed, counted apart
      row(ns, 'e', t0 + 3_600_000 + 3, 'globex', {}),            // missing: same
      row(ns, 'f', t0 + 2 * 3_600_000, 'acme', { n: 100 }),      // exactly `to`: excluded
      row(ns, 'g', t0 - 1, 'acme', { n: 100 }),                  // 1 ms before `from`: excluded
      row(ns, 'h', t0 + 5, 'acme', { n: 7 }, 'other.type'),
      row(other, 'x', t0 + 5, 'acme', { n: 1000 }),              // another tenant
    ]);
  });
  afterAll(() => db?.drop());

  it('counts with inclusive from and exclusive to, to the millisecond, in one namespace', async () => {
    const res = await queryUsage(db.client, q({}));
    expect(res.rows).toEqual([{ windowStartMs: t0, windowEndMs: t0 + 7_200_000, subject: '', value: '5', eventCount: '5' }]);
  });

  it('sums exactly per hour and subject, and reports values it could not sum', async () => {
    const res = await queryUsage(db.client, q({ windowSize: 'hour', valueProperty: 'n', groupBySubject: true }));
    expect(res.rows).toEqual([
      { windowStartMs: t0, windowEndMs: t0 + 3_600_000, subject: 'acme', value: '3.5', eventCount: '2' },
      { windowStartMs: t0 + 3_600_000, windowEndMs: t0 + 7_200_000, subject: 'globex', value: '10', eventCount: '3' },
    ]);
    expect(res.invalidValueCount).toBe('2');
  });

  it('filters by subject', async () => {
    const res = await queryUsage(db.client, q({ subjects: ['globex'], groupBySubject: true }));
    expect(res.rows.map((r) => [r.subject, r.value])).toEqual([['globex', '3']]);
  });

  it('returns no rows, not a zero row, for an empty range', async () => {
    const res = await queryUsage(db.client, q({ fromMs: t0 + 86_400_000, toMs: t0 + 2 * 86_400_000 }));
    expect(res.rows).toEqual([]);
  });

  it('keeps hostile strings inside their literals', async () => {
    const res = await queryUsage(db.client, q({ namespace: `${ns}' OR '1'='1`, subjects: ["acme') OR ('1'='1"] }));
    expect(res.rows).toEqual([]);
  });
});
