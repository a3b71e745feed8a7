import { eventIdentityKey } from '@polaris/shared/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toClickHouseDateTime } from '../date-time';
import { insertEventsRaw } from '../events-raw/events-raw.queries';
import type { EventsRawRow } from '../events-raw/events-raw.schema';
import { selectRows } from '../named-query';
import { throwawayDatabase, type ThrowawayDatabase } from '../testing/throwaway-database';
import { findStoredIdentities } from './event-identities.queries';
import { identityHash, identityHashText } from './identity-hash';
import { ALL_PARTITIONS, countIdentityHashes, countOtherLayouts, dropIdentityDaysBefore, readIdentityHashes } from './identity-hashes.queries';
import { z } from 'zod';

const ns = 'ns-event-identities';
const DAY = 86_400_000;
const received = Date.UTC(2026, 5, 20, 10);

function row(id: string, opts: { receivedAt?: number; fingerprint?: string; namespace?: string } = {}): EventsRawRow {
  const at = opts.receivedAt ?? received;
  return {
    namespace: opts.namespace ?? ns, id, source: 'it', type: 'api.request', subject: 's', time: toClickHouseDateTime(at), time_ms: at, data: '{}',
    ingested_at: toClickHouseDateTime(at), ingest_seq: '1', ...(opts.fingerprint === undefined ? {} : { payload_fingerprint: opts.fingerprint }),
  };
}
const key = (r: EventsRawRow) => eventIdentityKey(r.namespace, r.source, r.id);

describe('eventIdentities.findStored on ClickHouse (event_identities_v2, fed by the INSERT into events_raw)', () => {
  let db: ThrowawayDatabase;

  beforeAll(async () => {
    db = await throwawayDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('finds what one INSERT into events_raw stored, with its payload fingerprint, and nothing else', async () => {
    const a = row('a', { fingerprint: '123' });
    const b = row('b');
    await insertEventsRaw(db.client, [a, b]);
    const found = await findStoredIdentities(db.client, [a, b, row('never'), row('a', { namespace: 'ns-other' })], '2026-06-01');
    expect(found).toEqual(new Map([[key(a), '123'], [key(b), '0']]));
    // The identity row is ClickHouse's own copy of the event row, made by the same INSERT.
    const identities = await selectRows(db.client, 'test', { query: `SELECT id, toString(ingested_day) AS day FROM event_identities_v2 WHERE namespace = '${ns}' ORDER BY id` }, z.object({ id: z.string(), day: z.string() }));
    expect(identities).toEqual([{ id: 'a', day: '2026-06-20' }, { id: 'b', day: '2026-06-20' }]);
  });

  it('reads only the ingestion days of the window: an identity received before sinceDay is not seen', async () => {
    const old = row('old', { receivedAt: received - 60 * DAY, fingerprint: '7' });
    const edge = row('edge', { receivedAt: Date.UTC(2026, 4, 1, 0, 0, 0), fingerprint: '8' });
    await insertEventsRaw(db.client, [old, edge]);
    expect(await findStoredIdentities(db.client, [old, edge], '2026-05-01')).toEqual(new Map([[key(edge), '8']]));
    expect(await findStoredIdentities(db.client, [old, edge], '2026-05-02')).toEqual(new Map());
    await expect(findStoredIdentities(db.client, [old], '2026-5-1')).rejects.toThrow(/day/);
  });

  it("computes the sink's identity hash, labels rows for the filters, and drops whole days", async () => {
    const hns = 'ns-hashes-é';
    const labelled = (id: string, partition: number, partitions: number, receivedAt = received) => ({ ...row(id, { namespace: hns, receivedAt }), kafka_partition: partition, kafka_partitions: partitions });
    const rows = [labelled('p1-日本', 1, 4), labelled('p2', 2, 4), labelled('other-count', 1, 8), labelled('unknown', 0, 0), labelled('old', 1, 4, received - 55 * DAY)];
    await insertEventsRaw(db.client, rows);
    const stored = await selectRows(db.client, 'test', { query: `SELECT id, toString(identity_hash) AS h FROM event_identities_v2 WHERE namespace = '${hns}' ORDER BY id` }, z.object({ id: z.string(), h: z.string() }));
    expect(stored).toEqual(rows.map((r) => ({ id: r.id, h: identityHashText(identityHash(hns, 'it', r.id)) })).sort((a, b) => (a.id < b.id ? -1 : 1)));

    const scope = { sinceDay: '2026-06-01', partitions: [1], partitionCount: 4 };
    const read: Array<{ p: number; h: string }> = [];
    await readIdentityHashes(db.client, scope, (p, high, low) => read.push({ p, h: identityHashText({ high, low }) }));
    const hashOf = (id: string) => identityHashText(identityHash(hns, 'it', id));
    // Other namespaces' rows of this database are in the read too (the filter is per partition, not per org).
    const mine = read.filter((r) => [hashOf('p1-日本'), hashOf('p2'), hashOf('other-count'), hashOf('unknown'), hashOf('old')].includes(r.h));
    expect(mine.sort((a, b) => a.p - b.p)).toEqual([{ p: 1, h: hashOf('p1-日本') }, { p: ALL_PARTITIONS, h: hashOf('other-count') }, { p: ALL_PARTITIONS, h: hashOf('unknown') }].sort((a, b) => a.p - b.p));
    const counts = await countIdentityHashes(db.client, scope);
    expect(counts.get(1)).toBe(1);
    expect(await countOtherLayouts(db.client, { sinceDay: '2026-06-01', partitionCount: 4 })).toBe(1);

    expect(await dropIdentityDaysBefore(db.client, '2026-05-01')).toEqual(['2026-04-21', '2026-04-26']);
    expect(await findStoredIdentities(db.client, [rows[4] as EventsRawRow], '2026-01-01')).toEqual(new Map());
    expect((await findStoredIdentities(db.client, [rows[0] as EventsRawRow], '2026-01-01')).size).toBe(1);
  });
});
