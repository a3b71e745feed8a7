import { describe, expect, it } from 'vitest';
import { CLICKHOUSE_DATE_TIME, toClickHouseDateTime } from './date-time';

describe('toClickHouseDateTime', () => {
  it('writes UTC seconds, dropping milliseconds rather than rounding into the next second', () => {
    expect(toClickHouseDateTime(Date.UTC(2026, 2, 1, 10, 0, 59, 999))).toBe('2026-03-01 10:00:59');
    expect(toClickHouseDateTime(0)).toBe('1970-01-01 00:00:00');
  });

  it('gives each time its own text however calls interleave', () => {
    const times = [Date.UTC(2026, 2, 1), Date.UTC(2026, 2, 2), Date.UTC(2026, 2, 1, 0, 0, 0, 500), Date.UTC(2027, 0, 1), Date.UTC(2026, 2, 2)];
    for (const t of [...times, ...times.reverse()]) expect(toClickHouseDateTime(t)).toBe(new Date(Math.floor(t / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' '));
  });

  it('writes what the row check accepts', () => {
    expect(toClickHouseDateTime(Date.UTC(2099, 11, 31, 23, 59, 59))).toMatch(CLICKHOUSE_DATE_TIME);
  });
});
