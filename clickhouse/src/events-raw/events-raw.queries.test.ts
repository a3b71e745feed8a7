import { describe, expect, it } from 'vitest';
import { insertSql, QueryShapeError } from '../named-query';
import { eventsRawLine, findExistingStatements, insertStatement } from './events-raw.queries';
import type { EventIdentity, EventsRawRow } from './events-raw.schema';

const ns = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const other = '0b7d7f0e-52a4-4f0e-8d0a-3c1e8b1c2d3e';
/** ClickHouse's default max_query_size, in bytes: a longer probe would be refused (Code 62). */
const MAX_QUERY_SIZE = 256 * 1024;
const queries = (identities: EventIdentity[]) => findExistingStatements(identities).map((s) => s.query);

describe('eventsRaw.findExisting statements', () => {
  it('asks nothing for no identities', () => {
    expect(findExistingStatements([])).toEqual([]);
  });

  it('names each (namespace, source) once and lists its ids, escaped', () => {
    const sql = findExistingStatements([
      { namespace: ns, source: 'svc', id: 'a' },
      { namespace: other, source: 'svc', id: 'b' },
      { namespace: ns, source: 'svc', id: "it's" },
    ]);
    expect(sql).toEqual([
      {
        query:
          'SELECT namespace, source, id FROM events_raw WHERE ' +
          `(namespace = '${ns}' AND source = 'svc' AND id IN ('a', 'it\\'s')) OR ` +
          `(namespace = '${other}' AND source = 'svc' AND id IN ('b'))`,
      },
    ]);
  });

  it('splits a large probe into queries ClickHouse accepts, each id asked exactly once', () => {
    const identities: EventIdentity[] = Array.from({ length: 12_000 }, (_, i) => ({
      namespace: i % 5 === 0 ? other : ns,
      source: `source-${i % 3}`,
      id: `event-${String(i).padStart(6, '0')}-${'x'.repeat(40)}`,
    }));
    const sql = queries(identities);
    expect(sql.length).toBeGreaterThan(1);
    for (const query of sql) expect(Buffer.byteLength(query)).toBeLessThan(MAX_QUERY_SIZE);
    const asked = sql.flatMap((q) => [...q.matchAll(/'(event-[^']+)'/g)].map((m) => m[1]));
    expect(asked.sort()).toEqual(identities.map((e) => e.id).sort());
  });

  it('counts bytes, not characters: ids of multi-byte characters still fit the server limit', () => {
    // 2,000 ids of 256 CJK characters (3 bytes each): counted in characters, queries of 583,813 bytes.
    const identities: EventIdentity[] = Array.from({ length: 2_000 }, (_, i) => ({
      namespace: ns,
      source: '来源',
      id: `${String(i).padStart(4, '0')}${'漢'.repeat(252)}`,
    }));
    const sql = findExistingStatements(identities);
    for (const s of sql) {
      expect(Buffer.byteLength(s.query)).toBeLessThan(MAX_QUERY_SIZE);
      expect(s.settings).toBeUndefined();
    }
    const asked = sql.flatMap((s) => [...s.query.matchAll(/'(\d{4}漢+)'/g)].map((m) => m[1]));
    expect(asked.sort()).toEqual(identities.map((e) => e.id).sort());
  });

  it('still asks for an id longer than a query may be, on its own, with the limit raised for it', () => {
    const huge = 'y'.repeat(300_000);
    const sql = findExistingStatements([
      { namespace: ns, source: 'svc', id: 'a' },
      { namespace: ns, source: 'svc', id: huge },
    ]);
    expect(sql).toHaveLength(2);
    expect(sql[0]?.settings).toBeUndefined();
    expect(sql[1]?.query).toContain(huge);
    expect(Number(sql[1]?.settings?.max_query_size)).toBeGreaterThan(Buffer.byteLength(sql[1]?.query ?? ''));
  });

  it('refuses identities of another shape, naming the query', () => {
    expect(() => findExistingStatements([{ namespace: ns, source: 'svc' } as EventIdentity])).toThrow(QueryShapeError);
    expect(() => findExistingStatements([{ namespace: ns, source: 'svc' } as EventIdentity])).toThrow(/^eventsRaw\.findExisting: params/);
  });
});

describe('eventsRaw.insert statement', () => {
  const row: EventsRawRow = {
    namespace: ns, id: 'a', source: 'svc', type: 't', subject: 's', time: '2026-03-01 10:00:00', time_ms: Date.UTC(2026, 2, 1, 10),
    data: '{"n":1}', ingested_at: '2026-03-01 10:00:01', ingest_seq: '42',
  };

  it('is one JSONEachRow insert into events_raw, by column name', () => {
    expect(insertSql(insertStatement([row, { ...row, id: 'b' }]))).toBe(
      `INSERT INTO events_raw FORMAT JSONEachRow\n${JSON.stringify(row)}\n${JSON.stringify({ ...row, id: 'b' })}`,
    );
  });

  it('keeps strings ClickHouse must judge itself (lone surrogates are its Code 25, a data error)', () => {
    expect(insertStatement([{ ...row, subject: '\ud800' }]).values[0]?.subject).toBe('\ud800');
  });

  it('refuses rows of another shape before anything is sent', () => {
    expect(() => insertStatement([{ ...row, time: '2026-03-01T10:00:00Z' }])).toThrow(/eventsRaw\.insert: params .*0\.time/);
    expect(() => insertStatement([{ ...row, ingest_seq: '-1' }])).toThrow(QueryShapeError);
  });
});

describe('eventsRaw.insert with meter values', () => {
  const row: EventsRawRow = {
    namespace: ns, id: 'a', source: 'svc', type: 't', subject: 's', time: '2026-03-01 10:00:00', time_ms: Date.UTC(2026, 2, 1, 10),
    data: '{"n":1}', ingested_at: '2026-03-01 10:00:01', ingest_seq: '42',
  };
  const metered: EventsRawRow = {
    ...row,
    catalog_revision: '7',
    meter_version_ids: ['18446744073709551615', '3'],
    meter_values: ['99999999999999999999.999999999', '-0.000000001'],
    meter_unique_keys: ['', 's:x'],
    meter_dimensions: [['gpt-4', 'eu'], []],
    meter_valid: [1, 0],
  };

  it('sends decimals as bare JSON numbers, digit for digit (18.16 refuses quoted decimals), ids as text', () => {
    const line = insertSql(insertStatement([metered])).split('\n')[1] ?? '';
    expect(line).toContain('"meter_values":[99999999999999999999.999999999,-0.000000001]');
    expect(line).toContain('"meter_version_ids":["18446744073709551615","3"]');
    expect(line).toContain('"catalog_revision":"7"');
    expect(line).toContain('"meter_dimensions":[["gpt-4","eu"],[]]');
  });

  it('takes a revision with no meters: an event of a type nobody meters is still stamped', () => {
    const stamped = { ...row, catalog_revision: '7', meter_version_ids: [], meter_values: [], meter_unique_keys: [], meter_dimensions: [], meter_valid: [] };
    expect(insertSql(insertStatement([stamped]))).toBe(`INSERT INTO events_raw FORMAT JSONEachRow\n${JSON.stringify(stamped)}`);
  });

  it.each([
    ['arrays of different lengths', { meter_valid: [1] }, /meter_valid/],
    ['a missing array', { meter_unique_keys: undefined }, /meter_unique_keys/],
    ['values without the revision they came from', { catalog_revision: undefined }, /catalog_revision/],
    ['a float-like value', { meter_values: ['1e3', '1'] }, /meter_values/],
    ['too many fractional digits', { meter_values: ['0.1234567891', '1'] }, /meter_values/],
    ['21 integer digits', { meter_values: ['100000000000000000000', '1'] }, /meter_values/],
    ['a leading zero (not a JSON number)', { meter_values: ['01', '1'] }, /meter_values/],
    ['a validity other than 0 or 1', { meter_valid: [1, 2] }, /meter_valid/],
    ['a negative id', { meter_version_ids: ['-1', '3'] }, /meter_version_ids/],
  ] as const)('refuses %s before anything is sent', (_, over, field) => {
    const bad = { ...metered, ...over } as EventsRawRow;
    expect(() => insertStatement([bad])).toThrow(QueryShapeError);
    expect(() => insertStatement([bad])).toThrow(field);
  });
});

describe('eventsRaw.insert meter array elements', () => {
  const row: EventsRawRow = {
    namespace: ns, id: 'a', source: 'svc', type: 't', subject: 's', time: '2026-03-01 10:00:00', time_ms: 1, data: '{}', ingested_at: '2026-03-01 10:00:01', ingest_seq: '1',
    catalog_revision: '1', meter_version_ids: ['1'], meter_values: ['1'], meter_unique_keys: [''], meter_dimensions: [[]], meter_valid: [1],
  };
  it.each([
    ['a number for an id', { meter_version_ids: [1] }, /meter_version_ids/],
    ['a number for a value', { meter_values: [1] }, /meter_values/],
    ['a null unique key', { meter_unique_keys: [null] }, /meter_unique_keys/],
    ['a dimension that is not a string', { meter_dimensions: [[1]] }, /meter_dimensions/],
    ['a string for an array', { meter_valid: '1' }, /meter_valid/],
  ])('refuses %s', (_, over, field) => {
    expect(() => insertStatement([{ ...row, ...over } as unknown as EventsRawRow])).toThrow(field);
  });
});

describe('eventsRawLine (the sink\'s unchecked insert rows)', () => {
  const base: EventsRawRow = {
    namespace: ns, id: 'e-1', source: 'svc', type: 't', subject: 'cust "1"', time: '2026-01-02 03:04:05', time_ms: 1_767_323_045_123,
    data: '{"tokens":12345678901234567890}', ingested_at: '2026-01-02 03:04:06', ingest_seq: '41', payload_fingerprint: '99',
  };

  it('writes the same JSON line as the checked path, decimals as bare numbers, digit for digit', () => {
    const stamped: EventsRawRow = {
      ...base, catalog_revision: '3', meter_version_ids: ['7', '8'], meter_values: ['12345678901234567890.123456789', '-0.5'],
      meter_unique_keys: ['', 'k'], meter_dimensions: [[], ['gpt']], meter_valid: [1, 0],
    };
    for (const row of [base, stamped]) {
      const checked = insertStatement([row]).values[0];
      expect(JSON.parse(eventsRawLine(row))).toEqual(JSON.parse(JSON.stringify(checked)));
      expect(eventsRawLine(row).endsWith('}\n')).toBe(true);
    }
    expect(eventsRawLine(stamped)).toContain('"meter_values":[12345678901234567890.123456789,-0.5]}');
    expect(eventsRawLine({ ...stamped, meter_version_ids: [], meter_values: [], meter_unique_keys: [], meter_dimensions: [], meter_valid: [] })).toContain('"meter_values":[]}');
  });
});
