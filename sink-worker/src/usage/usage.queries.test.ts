import { describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@polaris/shared';
import { buildUsageSql, canonicalDecimal, queryUsage, type UsageQuery } from './usage.queries';

const t0 = Date.UTC(2026, 2, 1, 10);
const q: UsageQuery = { namespace: 'ns', eventType: 'tokens', fromMs: t0, toMs: t0 + 3_600_000, windowSize: 'none', valueProperty: 'n', subjects: ['acme'], groupBySubject: false };
const answering = (rows: object[]) => ({ query: async () => ({ json: async () => rows }) }) as unknown as ClickHouseClient;

// What these queries return on ClickHouse 18.16 and on a current engine is checked by
// clickhouse/compat/modern-clickhouse.integration.test.ts; this covers the mapping around them.
describe('usage queries', () => {
  it('never aliases a constant as subject, which would shadow the column in the subject filter', () => {
    const sql = buildUsageSql(q);
    expect(sql).toContain("'' AS group_subject");
    expect(sql).toContain("subject IN ('acme')");
    expect(sql).not.toMatch(/AS subject\b/);
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
});
