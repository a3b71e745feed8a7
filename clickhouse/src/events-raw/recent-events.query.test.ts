import { describe, expect, it } from 'vitest';
import { QueryShapeError } from '../named-query';
import { recentEventsStatement } from './recent-events.query';

const base = { namespace: "org'1", fromMs: Date.UTC(2026, 0, 1), toMs: Date.UTC(2026, 0, 8), limit: 51 };

describe('eventsRaw.recent statement', () => {
  it('reads each row once (the newest copy, as FINAL would, without FINAL), the namespace first, bounded in whole seconds and exact milliseconds, newest first', () => {
    const { query } = recentEventsStatement(base);
    expect(query).toContain('FROM events_raw\n');
    expect(query).not.toContain('FINAL');
    expect(query).toContain('ingest_seq DESC\nLIMIT 1 BY type, subject, time, source, id\n');
    expect(query).toMatch(/WHERE namespace = 'org\\'1'\n {2}AND time >= toDateTime\(1767225600, 'UTC'\)/);
    expect(query).toContain('time_ms >= 1767225600000');
    expect(query).toContain('time_ms < 1767830400000');
    expect(query).toContain('ORDER BY time_ms DESC, source DESC, id DESC, ingest_seq DESC');
    expect(query).toMatch(/\nLIMIT 51$/);
    expect(query).not.toContain('type =');
  });

  it('adds the filters and the cursor as escaped literals', () => {
    const { query } = recentEventsStatement({ ...base, type: "a'b", subject: 's\\', before: { time_ms: 1767225601234, source: "x'", id: 'i' } });
    expect(query).toContain("type = 'a\\'b'");
    expect(query).toContain("subject = 's\\\\'");
    expect(query).toContain("time <= toDateTime(1767225601, 'UTC')");
    expect(query).toContain("(time_ms < 1767225601234 OR (time_ms = 1767225601234 AND (source < 'x\\'' OR (source = 'x\\'' AND id < 'i'))))");
  });

  it('refuses an unbounded or empty range and an oversized page', () => {
    expect(() => recentEventsStatement({ ...base, toMs: base.fromMs })).toThrow(QueryShapeError);
    expect(() => recentEventsStatement({ ...base, namespace: '' })).toThrow(QueryShapeError);
    expect(() => recentEventsStatement({ ...base, limit: 202 })).toThrow(QueryShapeError);
  });
});
