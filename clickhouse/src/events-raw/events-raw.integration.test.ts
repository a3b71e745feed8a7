import { eventIdentityKey } from '@polaris/shared/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toClickHouseDateTime } from '../date-time';
import { throwawayDatabase, type ThrowawayDatabase } from '../testing/throwaway-database';
import { findExistingEventsRaw, insertEventsRaw } from './events-raw.queries';
import type { EventsRawRow } from './events-raw.schema';

const ns = 'ns-events-raw';
const t = Date.UTC(2026, 5, 1);

function row(id: string, source = 'it'): EventsRawRow {
  return {
    namespace: ns, id, source, type: 'api.request', subject: 's', time: toClickHouseDateTime(t), time_ms: t, data: '{}',
    ingested_at: toClickHouseDateTime(t), ingest_seq: '1',
  };
}
const key = (r: EventsRawRow) => eventIdentityKey(r.namespace, r.source, r.id);

describe('eventsRaw.findExisting on ClickHouse', () => {
  let db: ThrowawayDatabase;

  beforeAll(async () => {
    db = await throwawayDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('probes an identity longer than max_query_size instead of failing the batch', async () => {
    const long = row('x'.repeat(300_000));
    await insertEventsRaw(db.client, [long]);
    expect(await findExistingEventsRaw(db.client, [long, row('not-stored')])).toEqual(new Set([key(long)]));
  });

  it('probes thousands of multi-byte ids within the server limit (Code 62 when counted in characters)', async () => {
    const rows = Array.from({ length: 2_000 }, (_, i) => row(`${String(i).padStart(4, '0')}${'漢'.repeat(252)}`, '来源'));
    const stored = rows.filter((_, i) => i % 2 === 0);
    await insertEventsRaw(db.client, stored);
    expect(await findExistingEventsRaw(db.client, rows)).toEqual(new Set(stored.map(key)));
  });
});
