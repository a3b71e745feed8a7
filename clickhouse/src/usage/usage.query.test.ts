import { describe, expect, it } from 'vitest';
import { QueryShapeError, type ClickHouseReader } from '../named-query';
import { canonicalDecimal, queryUsage, usageStatement, type UsageQuery } from './usage.query';

const t0 = Date.UTC(2026, 2, 1, 10);
const q: UsageQuery = { namespace: 'ns', eventType: 'tokens', fromMs: t0, toMs: t0 + 3_600_000, windowSize: 'none', valueProperty: 'n', subjects: ['acme'], groupBySubject: false };
// A result set as selectRows reads it: a stream of batches of rows.
const answering = (rows: object[]) =>
  ({ query: async () => ({ stream: () => [rows.map((r) => ({ text: JSON.stringify(r), json: () => r }))] }) }) as unknown as ClickHouseReader;

// What these queries return on ClickHouse 18.16 and on a current engine is checked by
// clickhouse/compat/modern-clickhouse.integration.test.ts; this covers the mapping around them.
describe('usage.query', () => {
  it('never aliases a constant as subject, which would shadow the column in the subject filter', () => {
    const { query } = usageStatement(q);
    expect(query).toContain("'' AS group_subject");
    expect(query).toContain("subject IN ('acme')");
    expect(query).not.toMatch(/AS subject\b/);
  });

  it('reads FINAL, so a redelivery that reached the table is counted once', () => {
    expect(usageStatement(q).query).toContain('FROM events_raw FINAL');
  });

  it('translates each window size into its SQL, and checks the windows in range against it', () => {
    expect(usageStatement({ ...q, windowSize: 'minute' }).query).toContain('toUnixTimestamp(toStartOfMinute(time)) AS window_start');
    expect(usageStatement({ ...q, windowSize: 'hour' }).query).toContain('toUnixTimestamp(toStartOfHour(time)) AS window_start');
    expect(usageStatement({ ...q, windowSize: 'day' }).query).toContain("toUnixTimestamp(toStartOfDay(time, 'UTC')) AS window_start");
    expect(() => usageStatement({ ...q, windowSize: 'minute', toMs: t0 + 10_001 * 60_000 })).toThrow(expect.objectContaining({ code: 'too_many_windows' }));
  });

  it('refuses what the API names, and params of another shape as a bug', () => {
    expect(() => usageStatement({ ...q, toMs: q.fromMs })).toThrow(expect.objectContaining({ kind: 'invalid_argument', code: 'invalid_range', field: 'to' }));
    expect(() => usageStatement({ ...q, valueProperty: 'a.b' })).toThrow(expect.objectContaining({ code: 'invalid_value_property' }));
    expect(() => usageStatement({ ...q, windowSize: 'week' as UsageQuery['windowSize'] })).toThrow(QueryShapeError);
  });

  it('maps rows, with version-neutral decimals', async () => {
    const res = await queryUsage(answering([{ window_start: 0, group_subject: '', value: '3.500000000', event_count: '2', invalid_value_count: '1' }]), q);
    expect(res).toEqual({ rows: [{ windowStartMs: t0, windowEndMs: t0 + 3_600_000, subject: '', value: '3.5', eventCount: '2' }], invalidValueCount: '1' });
    expect(canonicalDecimal('100.000000000')).toBe('100');
  });

  it('reports a sum past 1e21 (which 18.16 cannot print) as out of range', async () => {
    const res = queryUsage(answering([{ window_start: 0, group_subject: '', value: '', event_count: '11', invalid_value_count: '0' }]), q);
    await expect(res).rejects.toMatchObject({ kind: 'invalid_argument', code: 'sum_out_of_range' });
  });

  it('refuses rows of another shape instead of reading a missing count as 0', async () => {
    const res = queryUsage(answering([{ window_start: 0, group_subject: '', value: '3', event_count: '2' }]), q);
    await expect(res).rejects.toThrow(/^usage\.query: rows do not match its schema: 0\.invalid_value_count/);
  });
});
