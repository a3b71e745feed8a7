import { randomUUID } from 'node:crypto';
import { eventsRaw, recentEventsReader, toClickHouseDateTime, type EventsRawRow } from '@polaris/clickhouse';
import { throwawayDatabase, type ThrowawayDatabase } from '@polaris/clickhouse/testing';
import type { ListEventsRequest, ListEventsResponse } from '@polaris/proto';
import { PolarisError } from '@polaris/shared/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeterCatalogSnapshot, type CatalogVersion } from '../meters/catalog-snapshot';
import { encodeEventsPageToken } from './events-page-token';
import { listEvents, type ListEventsDeps } from './list-events';

// Usage.ListEvents over a real ClickHouse (18.16 locally): rows stored as the sink stores them,
// the meter values computed with the sink's catalog snapshot and extractor.

const A = randomUUID();
const B = randomUUID();
const C = randomUUID();
const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);
const MINUTE = 60_000;

const version = (id: string, organizationId: string, slug: string, definition: CatalogVersion['definition']): CatalogVersion => ({
  organizationId,
  meterSlug: slug,
  meterVersionId: id,
  catalogRevision: '1',
  definition,
});

const catalog = new MeterCatalogSnapshot('3', [
  version('11', A, 'tokens', { eventType: 'llm', aggregation: 'SUM', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] }),
  version('12', A, 'calls', { eventType: 'llm', aggregation: 'COUNT', dimensions: [] }),
  version('21', B, 'b_tokens', { eventType: 'llm', aggregation: 'SUM', valuePath: '$.tokens', dimensions: [] }),
]);

function row(namespace: string, id: string, atMs: number, over: Partial<EventsRawRow> = {}): EventsRawRow {
  return {
    namespace,
    id,
    source: 'svc',
    type: 'llm',
    subject: 'cust-1',
    time: toClickHouseDateTime(atMs),
    time_ms: atMs,
    data: '{"tokens":5,"model":"gpt"}',
    ingested_at: toClickHouseDateTime(atMs + 1_000),
    ingest_seq: '1',
    ...over,
  };
}

describe('Usage.ListEvents on ClickHouse', () => {
  let db: ThrowawayDatabase;
  let deps: ListEventsDeps;
  const list = (req: Partial<ListEventsRequest> & { organizationId: string }): Promise<ListEventsResponse> =>
    listEvents({ pageSize: 0, pageToken: '', type: '', subject: '', ...req }, deps);
  const ids = (res: ListEventsResponse) => res.events.map((e) => e.id);

  beforeAll(async () => {
    db = await throwawayDatabase();
    deps = { reader: recentEventsReader(db.client), catalog: async () => catalog, now: () => NOW };
    const exact = row(A, 'a-exact', NOW - 1 * MINUTE, { data: '{"tokens":12345678901234567.891,"model":"gpt-4o","extra":[1,{"x":null}]}' });
    await eventsRaw.insert(db.client, [
      exact,
      row(A, 'a-missing', NOW - 2 * MINUTE, { data: '{"model":"gpt"}' }),
      row(A, 'a-text', NOW - 3 * MINUTE, { data: '{"tokens":"many"}', subject: 'cust-2' }),
      // Same millisecond: the tie is broken by (source, id), newest first means descending.
      row(A, 'a-tie-1', NOW - 4 * MINUTE, { source: 'svc-a' }),
      row(A, 'a-tie-2', NOW - 4 * MINUTE, { source: 'svc-a' }),
      row(A, 'a-other-type', NOW - 5 * MINUTE, { type: 'other' }),
      row(A, 'a-old', NOW - 8 * 24 * 60 * MINUTE),
      // B: the same identity and type as one of A's, and one of its own.
      row(B, 'a-exact', NOW - 1 * MINUTE, { data: '{"tokens":7}' }),
      row(B, 'b-own', NOW - 6 * MINUTE, { data: '{"tokens":3}' }),
    ]);
    // An exact redelivery that reached the table (the sink's probe is the first line of defence): shown once.
    await eventsRaw.insert(db.client, [exact]);
    // C: a redelivery stored later, with a higher ingest_seq, in parts of their own: shown once, as
    // the copy FINAL would keep (the newest), whether or not the parts have merged yet.
    await eventsRaw.insert(db.client, [row(C, 'c-1', NOW - 2 * MINUTE), row(C, 'c-redelivered', NOW - MINUTE)]);
    await eventsRaw.insert(db.client, [row(C, 'c-redelivered', NOW - MINUTE, { ingest_seq: '7', ingested_at: toClickHouseDateTime(NOW - MINUTE + 9_000) })]);
    await eventsRaw.insert(db.client, [row(C, 'c-redelivered', NOW - MINUTE, { ingest_seq: '3', ingested_at: toClickHouseDateTime(NOW - MINUTE + 5_000) })]);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("answers the organization's events only, newest first, within the default 7 days", async () => {
    const a = await list({ organizationId: A });
    expect(ids(a)).toEqual(['a-exact', 'a-missing', 'a-text', 'a-tie-2', 'a-tie-1', 'a-other-type']);
    expect(a.from).toEqual(new Date(NOW - 7 * 24 * 60 * MINUTE));
    expect(a.to).toEqual(new Date(NOW));
    expect(a.nextPageToken).toBe('');
    const b = await list({ organizationId: B });
    expect(ids(b)).toEqual(['a-exact', 'b-own']);
    // B's copy of the shared identity is B's: its data and its own meter, nothing of A's.
    expect(b.events[0]).toMatchObject({ data: '{"tokens":7}', meterValues: [{ meterSlug: 'b_tokens', value: '7' }], invalidValues: [] });
    expect(JSON.stringify(b)).not.toContain('gpt');
    expect(b.events.flatMap((e) => [...e.meterValues, ...e.invalidValues].map((v) => v.meterSlug))).toEqual(['b_tokens', 'b_tokens']);
  });

  it('shows a stored event once however many copies reached the table, the newest copy, and pages past it once', async () => {
    const c = await list({ organizationId: C });
    expect(ids(c)).toEqual(['c-redelivered', 'c-1']);
    expect(c.events[0]?.ingestedAt).toEqual(new Date(NOW - MINUTE + 9_000));
    const first = await list({ organizationId: C, pageSize: 1 });
    expect(ids(first)).toEqual(['c-redelivered']);
    expect(ids(await list({ organizationId: C, pageSize: 1, pageToken: first.nextPageToken }))).toEqual(['c-1']);
  });

  it('shows each event with its data as stored and what each live meter of its type read from it', async () => {
    const [exact] = (await list({ organizationId: A, pageSize: 1 })).events;
    expect(exact).toEqual({
      id: 'a-exact',
      source: 'svc',
      type: 'llm',
      subject: 'cust-1',
      time: new Date(NOW - MINUTE),
      ingestedAt: new Date(NOW - MINUTE + 1_000),
      data: '{"tokens":12345678901234567.891,"model":"gpt-4o","extra":[1,{"x":null}]}',
      meterValues: [
        { meterSlug: 'tokens', meterVersionId: '11', value: '12345678901234567.891', uniqueKey: '', dimensions: { model: 'gpt-4o' } },
        { meterSlug: 'calls', meterVersionId: '12', value: '0', uniqueKey: '', dimensions: {} },
      ],
      invalidValues: [],
    });
  });

  it('reports the values a meter could not read, with the reason, never as 0', async () => {
    const res = await list({ organizationId: A, pageSize: 3 });
    const [, missing, text] = res.events;
    expect(missing?.invalidValues).toEqual([{ meterSlug: 'tokens', meterVersionId: '11', reason: 'value_path $.tokens is missing' }]);
    expect(missing?.meterValues.map((v) => v.meterSlug)).toEqual(['calls']);
    expect(text?.invalidValues).toEqual([{ meterSlug: 'tokens', meterVersionId: '11', reason: expect.stringMatching(/^value_path \$\.tokens .*number/) }]);
    const [other] = (await list({ organizationId: A, type: 'other' })).events;
    expect(other).toMatchObject({ id: 'a-other-type', meterValues: [], invalidValues: [] });
  });

  it('pages with an opaque cursor that visits every event once, and refuses a token it did not give', async () => {
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await list({ organizationId: A, pageSize: 2, pageToken: token });
      seen.push(...ids(page));
      token = page.nextPageToken;
      pages++;
    } while (token !== '' && pages < 10);
    expect(seen).toEqual(['a-exact', 'a-missing', 'a-text', 'a-tie-2', 'a-tie-1', 'a-other-type']);
    expect(pages).toBe(3);

    for (const bad of ['garbage!', Buffer.from('{"after":"x"}').toString('base64url'), Buffer.from('[-1,"s","i"]').toString('base64url')]) {
      const err = await list({ organizationId: A, pageToken: bad }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PolarisError);
      expect(err).toMatchObject({ kind: 'invalid_argument', code: 'invalid_page_token', field: 'page_token' });
    }
    // A's cursor given to B moves B's own listing only: a position in time, never A's events.
    const fromA = encodeEventsPageToken({ time_ms: NOW, source: 'svc', id: 'zzz' });
    expect(ids(await list({ organizationId: B, pageToken: fromA }))).toEqual(['a-exact', 'b-own']);
  });

  it('filters by type, subject and time range; a bad range names the argument', async () => {
    expect(ids(await list({ organizationId: A, subject: 'cust-2' }))).toEqual(['a-text']);
    expect(ids(await list({ organizationId: A, type: 'llm', subject: 'cust-1', pageSize: 2 }))).toEqual(['a-exact', 'a-missing']);
    expect(ids(await list({ organizationId: A, from: new Date(NOW - 4 * MINUTE), to: new Date(NOW - 2 * MINUTE) }))).toEqual(['a-text', 'a-tie-2', 'a-tie-1']);
    expect(ids(await list({ organizationId: A, from: new Date(NOW - 9 * 24 * 60 * MINUTE), to: new Date(NOW - 7 * 24 * 60 * MINUTE) }))).toEqual(['a-old']);
    await expect(list({ organizationId: A, from: new Date(NOW), to: new Date(NOW - MINUTE) })).rejects.toMatchObject({ code: 'empty_range', field: 'to' });
    await expect(list({ organizationId: A, from: new Date(NOW - 100 * 24 * 60 * MINUTE) })).rejects.toMatchObject({ code: 'range_too_long', field: 'from' });
  });
});
