import { describe, expect, it } from 'vitest';
import { insertSql, QueryShapeError } from '../named-query';
import { countEventsStatement, insertValuesStatement, readEventsStatement } from './meter-backfill.queries';
import type { MeterValuesBackfillRow } from './meter-backfill.schema';

const scope = { namespace: 'ns', eventType: 'llm.completion', belowRevision: '7' };

describe('meterBackfill.countEvents and readEvents statements', () => {
  it('read events_raw FINAL below the revision, in one namespace and type', () => {
    expect(countEventsStatement(scope).query).toBe(
      "SELECT toString(count()) AS events FROM events_raw FINAL\nWHERE namespace = 'ns'\n  AND type = 'llm.completion'\n  AND catalog_revision < 7",
    );
  });

  it('bound the range on whole seconds for pruning, then exactly on milliseconds', () => {
    const { query } = countEventsStatement({ ...scope, fromMs: 1_500, toMs: 10_999 });
    expect(query).toContain("time >= toDateTime(1, 'UTC')\n  AND time_ms >= 1500\n  AND time <= toDateTime(10, 'UTC')\n  AND time_ms < 10999");
  });

  it('take an open end (Number.MAX_SAFE_INTEGER) without turning it into a DateTime, which would wrap', () => {
    const { query } = countEventsStatement({ ...scope, fromMs: 0, toMs: Number.MAX_SAFE_INTEGER });
    expect(query).toContain(`time_ms < ${Number.MAX_SAFE_INTEGER}`);
    expect(query).not.toContain('time <=');
  });

  it('page in (time_ms, source, id) order, strictly after the cursor', () => {
    const { query } = readEventsStatement({ ...scope, limit: 500, after: { time_ms: 2_000, source: 's', id: 'i' } });
    expect(query).toContain("(time_ms > 2000 OR (time_ms = 2000 AND (source > 's' OR (source = 's' AND id > 'i'))))");
    expect(query).toMatch(/ORDER BY time_ms, source, id\nLIMIT 500$/);
    expect(query).not.toMatch(/AS time_ms\b/);
  });

  it('keep hostile strings inside their literals', () => {
    const payload = "x' OR 1=1 --\\";
    const { query } = readEventsStatement({ namespace: payload, eventType: payload, belowRevision: '1', limit: 1, after: { time_ms: 0, source: payload, id: payload } });
    expect(query.match(/'x\\' OR 1=1 --\\\\'/g)).toHaveLength(5);
  });

  it.each([
    ['a revision that is not a UInt64', { belowRevision: '-1' }],
    ['a revision as a number', { belowRevision: 7 }],
    ['an empty range', { fromMs: 10, toMs: 10 }],
  ])('refuse %s', (_, over) => {
    expect(() => countEventsStatement({ ...scope, ...over } as never)).toThrow(QueryShapeError);
    expect(() => readEventsStatement({ ...scope, ...over, limit: 1 } as never)).toThrow(QueryShapeError);
  });

  it('refuse a page of no events or of too many', () => {
    expect(() => readEventsStatement({ ...scope, limit: 0 })).toThrow(QueryShapeError);
    expect(() => readEventsStatement({ ...scope, limit: 100_001 })).toThrow(QueryShapeError);
  });
});

describe('meterBackfill.insertValues statement', () => {
  const row: MeterValuesBackfillRow = {
    namespace: 'ns', meter_version_id: '18446744073709551615', backfill_run: '3', subject: 's', time: '2026-03-01 10:00:00', time_ms: Date.UTC(2026, 2, 1, 10, 0, 0, 250),
    event_key: 'svc\nid', value: '-12345678901234567890.123456789', unique_key: '', dimensions: ['gpt'], valid: 1,
  };

  it('is one JSONEachRow insert into meter_values_backfill_v1, the value a bare JSON number', () => {
    const sql = insertSql(insertValuesStatement([row, { ...row, valid: 0, value: '0' }]));
    expect(sql.split('\n')[0]).toBe('INSERT INTO meter_values_backfill_v1 FORMAT JSONEachRow');
    expect(sql).toContain('"value":-12345678901234567890.123456789,');
    expect(sql).toContain('"meter_version_id":"18446744073709551615"');
    expect(sql.split('\n')).toHaveLength(3);
  });

  it.each([
    ['run 0, which is the live path', { backfill_run: '0' }],
    ['a value with an exponent', { value: '1e3' }],
    ['a time that is not its time_ms', { time: '2026-03-01 10:00:01' }],
    ['nine dimensions', { dimensions: Array.from({ length: 9 }, () => 'x') }],
    ['a validity of 2', { valid: 2 }],
  ])('refuses %s', (_, over) => {
    expect(() => insertValuesStatement([{ ...row, ...over } as MeterValuesBackfillRow])).toThrow(QueryShapeError);
  });
});
