import { describe, expect, it } from 'vitest';
import { buildExistingSql, type EventIdentity } from './events-raw.writer';

const ns = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const other = '0b7d7f0e-52a4-4f0e-8d0a-3c1e8b1c2d3e';
/** ClickHouse's default max_query_size: a longer probe would be refused. */
const MAX_QUERY_SIZE = 256 * 1024;

describe('buildExistingSql', () => {
  it('asks nothing for no identities', () => {
    expect(buildExistingSql([])).toEqual([]);
  });

  it('names each (namespace, source) once and lists its ids, escaped', () => {
    const sql = buildExistingSql([
      { namespace: ns, source: 'svc', id: 'a' },
      { namespace: other, source: 'svc', id: 'b' },
      { namespace: ns, source: 'svc', id: "it's" },
    ]);
    expect(sql).toEqual([
      'SELECT namespace, source, id FROM events_raw WHERE ' +
        `(namespace = '${ns}' AND source = 'svc' AND id IN ('a', 'it\\'s')) OR ` +
        `(namespace = '${other}' AND source = 'svc' AND id IN ('b'))`,
    ]);
  });

  it('splits a large probe into queries ClickHouse accepts, each id asked exactly once', () => {
    const identities: EventIdentity[] = Array.from({ length: 12_000 }, (_, i) => ({
      namespace: i % 5 === 0 ? other : ns,
      source: `source-${i % 3}`,
      id: `event-${String(i).padStart(6, '0')}-${'x'.repeat(40)}`,
    }));
    const sql = buildExistingSql(identities);
    expect(sql.length).toBeGreaterThan(1);
    for (const query of sql) expect(query.length).toBeLessThan(MAX_QUERY_SIZE);
    const asked = sql.flatMap((q) => [...q.matchAll(/'(event-[^']+)'/g)].map((m) => m[1]));
    expect(asked.sort()).toEqual(identities.map((e) => e.id).sort());
  });

  it('still asks for an id longer than a query may be, on its own', () => {
    const huge = 'y'.repeat(250_000);
    const sql = buildExistingSql([
      { namespace: ns, source: 'svc', id: 'a' },
      { namespace: ns, source: 'svc', id: huge },
    ]);
    expect(sql).toHaveLength(2);
    expect(sql[1]).toContain(huge);
  });
});
