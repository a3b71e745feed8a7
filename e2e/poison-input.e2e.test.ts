import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { EVENTS_TOPIC, eventMessageKey, MAX_DATA_DEPTH } from '@polaris/shared/contracts';
import { createTenant, type Tenant } from './support/tenants';
import { cloudEvent, eventually, graphql, postEvents } from './support/http';
import { gatewayUrl } from './support/ports';
import { storedEvents } from './support/events-store';
import { tenantWithMeters, wholeMinutesAround } from './support/meters';
import { deepStructBytes, publishOverGrpc, publishRawOverGrpc, publishRequestBytes } from './support/ingest-grpc';

/**
 * Issue 5: the collector accepts only what the store can hold. Every poison input is either
 * refused with a 4xx naming the field, or accepted and stored intact; and none of it stops the
 * sink from storing other organizations' events.
 */

/** `{"a":{"a":…{"tokens":1}}}` with `depth` objects (data itself is depth 1), built iteratively. */
function nestedData(depth: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { tokens: 1 };
  for (let i = 1; i < depth; i++) inner = { a: inner };
  return inner;
}

/** The same as JSON text, built as text: the test's own JSON.stringify would overflow too. */
const nestedDataText = (depth: number) => `${'{"a":'.repeat(depth - 1)}{"tokens":1}${'}'.repeat(depth - 1)}`;

/** A single event as raw JSON text, so a `\ud800` escape reaches the collector as sent. */
function rawEvent(overrides: Record<string, string>): string {
  const attrs: Record<string, string> = {
    specversion: '"1.0"',
    id: JSON.stringify(`poison-${randomUUID()}`),
    source: '"e2e-poison"',
    type: '"api.request"',
    subject: '"customer-1"',
    data: '{"tokens":1}',
    ...overrides,
  };
  return `{${Object.entries(attrs).map(([k, v]) => `"${k}":${v}`).join(',')}}`;
}

const LONE_SURROGATE = /\p{Surrogate}/u;
type ErrorBody = { code: string; field?: string; message: string };

const COUNT = /* GraphQL */ `
  query Count($metric: String!, $from: DateTime!, $to: DateTime!) {
    usage(metric: $metric, from: $from, to: $to) { total }
  }
`;
const RECORD = /* GraphQL */ `
  mutation Record($input: RecordEventInput!) { recordEvent(input: $input) { accepted } }
`;

describe('poison input: refused with the field named, or stored intact', () => {
  let tenant: Tenant;
  const tenantOnce = async () => (tenant ??= await createTenant());

  describe('POST /v1/events', () => {
    it.each([
      ['id', { id: '"\\ud800"' }, 'id'],
      ['source', { source: '"billing-\\udc00"' }, 'source'],
      ['subject', { subject: '"customer-\\ud83d"' }, 'subject'],
      ['type', { type: '"api.\\ud800"' }, 'type'],
      ['a data key', { data: '{"ok":1,"k\\udc00":2}' }, 'data'],
      ['a nested data key', { data: '{"usage":{"k\\udc00":2}}' }, 'data.usage'],
      ['a data value', { data: '{"model":{"name":"gpt-\\ud800"}}' }, 'data.model.name'],
    ])('refuses a lone surrogate in %s', async (_label, overrides, field) => {
      const { apiKey } = await tenantOnce();
      const res = await postEvents(apiKey, rawEvent(overrides));
      expect(res.status).toBe(400);
      const error = res.body.error as ErrorBody;
      expect(error).toMatchObject({ code: 'invalid_event', field });
      expect(error.message).toMatch(/not well-formed Unicode/);
      // The answer names the place without repeating the lone surrogate.
      expect(LONE_SURROGATE.test(`${error.field} ${error.message}`)).toBe(false);
    });

    it('names the event inside a batch, and accepts none of it', async () => {
      const { apiKey } = await tenantOnce();
      const body = `[${rawEvent({})},${rawEvent({ data: '{"x":["ok","\\ud800"]}' })}]`;
      const res = await postEvents(apiKey, body, 'application/cloudevents-batch+json');
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_event', field: '[1].data.x[1]' });
    });

    it(`accepts data nested exactly ${MAX_DATA_DEPTH} deep and stores it intact`, async () => {
      const own = await createTenant();
      const event = cloudEvent({ data: nestedData(MAX_DATA_DEPTH) });
      expect((await postEvents(own.apiKey, event)).status).toBe(202);
      const [row] = await eventually(async () => {
        const rows = await storedEvents(own.orgId);
        return rows.length > 0 ? rows : undefined;
      }, 'the deep event to be stored');
      expect(row?.id).toBe(event.id);
      expect(JSON.parse(row?.data ?? 'null')).toEqual(nestedData(MAX_DATA_DEPTH));
    });

    it.each([MAX_DATA_DEPTH + 1, 4_109, 4_110, 100_000])('refuses data nested %i deep: 400 naming data and the limit', async (depth) => {
      const { apiKey } = await tenantOnce();
      const res = await postEvents(apiKey, rawEvent({ data: nestedDataText(depth) }));
      expect(res.status).toBe(400);
      const error = res.body.error as ErrorBody;
      expect(error).toMatchObject({ code: 'invalid_event', field: 'data' });
      expect(error.message).toContain(`at most ${MAX_DATA_DEPTH} levels`);
    });

    it.each(['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'])(
      'answers a 100,000-deep [[[…]]] %s body with a 400',
      async (type) => {
        const { apiKey } = await tenantOnce();
        const res = await postEvents(apiKey, `${'['.repeat(100_000)}${']'.repeat(100_000)}`, type);
        expect(res.status).toBe(400);
        expect((res.body.error as ErrorBody).code).toMatch(/^invalid_/);
      },
    );

    it.each([
      ['2026-02-30T00:00:00Z', /day 30 does not exist/],
      ['2026-02-29T00:00:00Z', /day 29 does not exist/],
      ['2026-13-01T00:00:00Z', /month 13/],
      ['2026-01-01T24:00:00Z', /hour/],
      ['2026-01-01T23:60:00Z', /minute/],
      ['2016-12-31T23:59:60Z', /leap seconds/],
      ['2026-01-01T00:00:00+24:00', /offset/],
    ])('refuses time %s with a 400 naming time', async (time, why) => {
      const { apiKey } = await tenantOnce();
      const single = await postEvents(apiKey, cloudEvent({ time }));
      expect(single.status).toBe(400);
      expect(single.body.error).toMatchObject({ code: 'invalid_event', field: 'time', message: expect.stringMatching(why) });
      const batch = await postEvents(apiKey, [cloudEvent(), cloudEvent(), cloudEvent(), cloudEvent({ time })], 'application/cloudevents-batch+json');
      expect(batch.body.error).toMatchObject({ code: 'invalid_event', field: '[3].time' });
    });

    it('stores Feb 29 of a leap year as that day, to the millisecond', async () => {
      const own = await createTenant();
      expect((await postEvents(own.apiKey, cloudEvent({ time: '2024-02-29T23:59:59.123+00:00' }))).status).toBe(202);
      const [row] = await eventually(async () => {
        const rows = await storedEvents(own.orgId);
        return rows.length > 0 ? rows : undefined;
      }, 'the leap-day event to be stored');
      expect(Number(row?.time_ms)).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 123));
    });
  });

  describe('Ingest gRPC, called directly', () => {
    const event = () => ({ id: `grpc-${randomUUID()}`, source: 'e2e-grpc', type: 'api.request', subject: 'customer-1' });

    it(`accepts data nested ${MAX_DATA_DEPTH} deep and stores it intact`, async () => {
      const own = await createTenant();
      const ev = { ...event(), data: nestedData(MAX_DATA_DEPTH) };
      expect(await publishOverGrpc({ organizationId: own.orgId, events: [ev] })).toEqual({ ok: true, accepted: 1 });
      const [row] = await eventually(async () => {
        const rows = await storedEvents(own.orgId);
        return rows.length > 0 ? rows : undefined;
      }, 'the deep gRPC event to be stored');
      expect(JSON.parse(row?.data ?? 'null')).toEqual(nestedData(MAX_DATA_DEPTH));
    });

    it.each([MAX_DATA_DEPTH + 1, 1_000])('answers INVALID_ARGUMENT naming data for a Struct %i deep (generated client)', async (depth) => {
      const { orgId } = await tenantOnce();
      const res = await publishOverGrpc({ organizationId: orgId, events: [{ ...event(), data: nestedData(depth) }] });
      expect(res).toMatchObject({ ok: false, grpcCode: 3, code: 'invalid_event', field: 'events[].data' });
      expect(res).toMatchObject({ details: expect.stringContaining(`at most ${MAX_DATA_DEPTH} levels`) });
    });

    it.each([5_000, 100_000])('answers INVALID_ARGUMENT naming data for a Struct %i deep (hand-made bytes)', async (depth) => {
      const { orgId } = await tenantOnce();
      const res = await publishRawOverGrpc(publishRequestBytes(orgId, event(), deepStructBytes(depth)));
      expect(res).toMatchObject({ ok: false, grpcCode: 3, code: 'invalid_event', field: 'events[].data' });
    });

    it('refuses nested lists past the limit by the shared check (they decode further than Structs)', async () => {
      const { orgId } = await tenantOnce();
      let list: unknown = [1];
      for (let i = 0; i < 40; i++) list = [list];
      const res = await publishOverGrpc({ organizationId: orgId, events: [event(), { ...event(), data: { list } }] });
      expect(res).toMatchObject({ ok: false, grpcCode: 3, code: 'invalid_event', field: 'events[1].data' });
    });

    it.each([
      ['past what Date holds', 1e15],
      ['after 2100', Date.UTC(2101, 0, 1) / 1000],
    ])('answers INVALID_ARGUMENT naming the time for a Timestamp %s', async (_label, timeSeconds) => {
      const { orgId } = await tenantOnce();
      const res = await publishRawOverGrpc(publishRequestBytes(orgId, { ...event(), timeSeconds }, deepStructBytes(1)));
      expect(res).toMatchObject({ ok: false, grpcCode: 3, code: 'invalid_event', field: 'events[0].time' });
    });

    it('answers INVALID_ARGUMENT for bytes that are not a request at all', async () => {
      const res = await publishRawOverGrpc(Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f, 0x01]));
      expect(res).toMatchObject({ ok: false, grpcCode: 3 });
    });

    it('never receives a lone surrogate: protobuf strings are UTF-8, so the encoder sends U+FFFD', async () => {
      const own = await createTenant();
      const ev = { ...event(), id: `grpc-${randomUUID()}-\ud800`, data: { ['k\udc00']: 'v\ud800' } };
      expect(await publishOverGrpc({ organizationId: own.orgId, events: [ev] })).toEqual({ ok: true, accepted: 1 });
      const [row] = await eventually(async () => {
        const rows = await storedEvents(own.orgId);
        return rows.length > 0 ? rows : undefined;
      }, 'the event to be stored');
      expect(row?.id).toBe(ev.id.replace('\ud800', '\ufffd'));
      expect(JSON.parse(row?.data ?? 'null')).toEqual({ 'k\ufffd': 'v\ufffd' });
    });
  });

  describe('gateway recordEvent (GraphQL → Ingest gRPC)', () => {
    const input = (overrides: Record<string, unknown> = {}) => ({
      id: `gql-${randomUUID()}`, source: 'e2e-gql', type: 'api.request', subject: 'customer-1', ...overrides,
    });

    it(`refuses data nested ${MAX_DATA_DEPTH + 1} deep with a 4xx naming data`, async () => {
      const { apiKey } = await tenantOnce();
      const res = await graphql(apiKey, RECORD, { input: input({ data: nestedData(MAX_DATA_DEPTH + 1) }) });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'invalid_event', field: expect.stringMatching(/data$/) });
    });

    it.each([1_000, 5_000, 100_000])('refuses data nested %i deep with a 4xx', async (depth) => {
      const { apiKey } = await tenantOnce();
      // Raw text: JSON.stringify of the variables would overflow this test's own stack.
      const inputText = JSON.stringify(input()).replace(/}$/, `,"data":${nestedDataText(depth)}}`);
      const res = await fetch(gatewayUrl, {
        method: 'POST',
        signal: AbortSignal.timeout(20_000),
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${apiKey}` },
        body: `{"query":${JSON.stringify(RECORD)},"variables":{"input":${inputText}}}`,
      });
      const body = await res.text();
      // A 5xx here means the gateway's own gRPC encoder recursed on `data` before Ingest saw it.
      expect(res.status, body.slice(0, 300)).toBeGreaterThanOrEqual(400);
      expect(res.status, body.slice(0, 300)).toBeLessThan(500);
    });

    it('refuses Feb 30 with a 400 naming the time', async () => {
      const { apiKey } = await tenantOnce();
      const res = await graphql(apiKey, RECORD, { input: input({ time: '2026-02-30T00:00:00Z' }) });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.errors)).toMatch(/time/);
    });

    it('refuses a lone surrogate with a 400 naming the field (gRPC would silently carry U+FFFD instead)', async () => {
      const { apiKey } = await tenantOnce();
      for (const sent of [input({ id: `gql-${randomUUID()}-\ud800` }), input({ data: { ['k\udc00']: 1 } })]) {
        // JSON.stringify escapes the lone surrogate, so the gateway parses exactly what was meant.
        const res = await graphql(apiKey, RECORD, { input: sent });
        expect(res.status, JSON.stringify(res)).toBe(400);
        expect(res.errors?.[0]?.extensions?.field).toMatch(/id$|data$/);
      }
    });
  });

  describe('the sink', () => {
    const kafka = new Kafka({ clientId: 'e2e-poison', brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:59092'], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    afterAll(() => producer.disconnect());

    it('keeps storing other organizations’ events after poison reached the topic directly and through the doors', async () => {
      // What the collector now refuses, written straight to every partition, as a buggy or
      // hostile producer could: the sink must set it aside (DLQ), not stop on it.
      const poisonOrg = await createTenant();
      await producer.connect();
      const admin = kafka.admin();
      await admin.connect();
      const { partitions } = (await admin.fetchTopicMetadata({ topics: [EVENTS_TOPIC] })).topics[0] ?? { partitions: [] };
      await admin.disconnect();
      expect(partitions.length).toBeGreaterThan(0);
      const poisonEvents = [
        `{"id":"\\ud800-${randomUUID()}","source":"e2e-poison","type":"api.request","subject":"c","timeMs":${Date.now()},"data":{}}`,
        `{"id":"deep-${randomUUID()}","source":"e2e-poison","type":"api.request","subject":"c","timeMs":${Date.now()},"data":${nestedDataText(10_000)}}`,
        `{"id":"key-${randomUUID()}","source":"e2e-poison","type":"api.request","subject":"c","timeMs":${Date.now()},"data":{"k\\udc00":1}}`,
      ];
      await producer.send({
        topic: EVENTS_TOPIC,
        messages: partitions.flatMap(({ partitionId }) =>
          poisonEvents.map((text, i) => ({
            partition: partitionId,
            key: eventMessageKey(poisonOrg.orgId, { source: 'e2e-poison', id: `${partitionId}-${i}` }),
            value: `{"v":1,"namespace":"${poisonOrg.orgId}","receivedAt":${Date.now()},"event":${text}}`,
          })),
        ),
      });

      // 50 ordinary events from another organization, keyed across every partition.
      const other = await tenantWithMeters([{ slug: 'after_poison', name: 'After poison', eventType: 'after.poison', aggregation: 'COUNT' }]);
      const { from, to } = wholeMinutesAround();
      const events = Array.from({ length: 50 }, () => cloudEvent({ type: 'after.poison' }));
      expect((await postEvents(other.apiKey, events, 'application/cloudevents-batch+json')).status).toBe(202);
      await eventually(async () => {
        const r = await graphql<{ usage: { total: string } }>(other.apiKey, COUNT, { metric: 'after_poison', from, to });
        return r.data?.usage.total === '50' ? true : undefined;
      }, 'all 50 events of the other organization to be stored and counted', 20_000);
      expect(await storedEvents(poisonOrg.orgId)).toEqual([]);
    });
  });
});
