import { beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { eventually } from './support/http';
import { meterEvent, sendAll, type MeterEvent } from './support/meter-events';
import { BACKFILL_FIELDS, createMeter, getMeter, graphqlAt, meterSlugs, tryUsage, usageOf, waitForBackfill, type GraphQLAnswer, type MeterInput, type MeterView } from './support/meters';
import { collectorUrl, gatewayUrl } from './support/ports';
import { rowCount } from './support/stored-rows';
import { createTenant, type Tenant } from './support/tenants';
import { groupReached, topicEnds } from './support/topics';

/**
 * docs/ARCHITECTURE.md, "Tenancy", for meters: the organization comes from the API key only.
 * Another organization cannot see, query, update, archive or backfill the first one's meter, by
 * slug or by backfill run id (it is unknown to it, as a meter that does not exist), and its own
 * meter of the same slug over events of the same type, subject, source and ids counts only its
 * own events.
 */

const TYPE = 'tenancy.call';
const METER: MeterInput = { slug: 'shared_name', name: 'Tokens', eventType: TYPE, aggregation: 'SUM', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] };
const RANGE = { from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' };
/** The shared e2e sink-worker's consumer group (KAFKA_GROUP_ID's default). */
const SHARED_SINK_GROUP = 'polaris-sink';

/** The same identities, types and subjects in both organizations; only the values differ. */
const eventsOf = (tokens: number): MeterEvent[] =>
  Array.from({ length: 20 }, (_, i) =>
    meterEvent({ id: `same-id-${i}`, source: 'same-source', type: TYPE, subject: 'cust-1', timeMs: Date.parse('2026-11-01T10:00:00Z') + i * 60_000, dataJson: JSON.stringify({ tokens, model: 'gpt' }) }),
  );

function expectUnknown<T>(answer: GraphQLAnswer<T>, what: string, code: string): void {
  expect(answer.data ?? null, what).toBeNull();
  expect(answer.status, `${what}: ${JSON.stringify(answer.errors)}`).toBe(404);
  expect(answer.errors?.[0]?.extensions, what).toMatchObject({ code: 'NOT_FOUND', reason: code });
}

describe("meters: one organization never reaches another's", () => {
  let a: Tenant;
  let b: Tenant;
  let aMeter: MeterView;

  beforeAll(async () => {
    [a, b] = await Promise.all([createTenant(['events:write', 'usage:read', 'meters:write']), createTenant(['events:write', 'usage:read', 'meters:write'])]);
    await sendAll(collectorUrl, a.apiKey, eventsOf(1));
    await sendAll(collectorUrl, b.apiKey, eventsOf(1000));
    await eventually(async () => ((await rowCount(a.orgId)) === 20 && (await rowCount(b.orgId)) === 20 ? true : undefined), 'both organizations\u2019 events to be stored');
    await createMeter(gatewayUrl, a.apiKey, METER);
    aMeter = await waitForBackfill(gatewayUrl, a.apiKey, METER.slug);
  });

  it('the other organization cannot see, query, update, archive or backfill it, by slug or by run id', async () => {
    const runId = aMeter.latestBackfill?.id;
    expect(runId).toMatch(/^\d+$/);
    const asB = <T>(query: string, variables: Record<string, unknown> = {}) => graphqlAt<T>(gatewayUrl, b.apiKey, query, variables);
    const slug = { slug: METER.slug };

    expectUnknown(await asB('query($slug: String!) { meter(slug: $slug) { id } }', slug), 'meter', 'meter_not_found');
    expectUnknown(await tryUsage(gatewayUrl, b.apiKey, { metric: METER.slug, ...RANGE }), 'usage', 'meter_not_found');
    expectUnknown(await asB('mutation($slug: String!) { updateMeter(slug: $slug, input: { name: "taken" }) { id } }', slug), 'updateMeter (name)', 'meter_not_found');
    expectUnknown(await asB('mutation($slug: String!) { updateMeter(slug: $slug, input: { valuePath: "$.other" }) { id } }', slug), 'updateMeter (new version)', 'meter_not_found');
    expectUnknown(await asB('mutation($slug: String!) { archiveMeter(slug: $slug) { id } }', slug), 'archiveMeter', 'meter_not_found');
    expectUnknown(await asB('mutation($slug: String!) { startMeterBackfill(slug: $slug) { id } }', slug), 'startMeterBackfill', 'meter_not_found');
    expectUnknown(await asB(`query($id: ID!) { meterBackfill(id: $id) { ${BACKFILL_FIELDS} } }`, { id: runId }), 'meterBackfill by id', 'backfill_run_not_found');
    expect(await meterSlugs(gatewayUrl, b.apiKey)).toEqual([]);

    // The first organization's meter is as it was, and still its own.
    const after = await getMeter(gatewayUrl, a.apiKey, METER.slug);
    expect(after).toEqual(aMeter);
    const run = await graphqlAt<{ meterBackfill: { id: string; state: string } }>(gatewayUrl, a.apiKey, `query($id: ID!) { meterBackfill(id: $id) { ${BACKFILL_FIELDS} } }`, { id: runId });
    expect(run.data?.meterBackfill).toMatchObject({ id: runId, state: 'completed', meterSlug: METER.slug });
  });

  it('a meter of the same slug in the other organization counts only its own events', async () => {
    const bMeter = await createMeter(gatewayUrl, b.apiKey, METER);
    expect(bMeter.id).not.toBe(aMeter.id);
    await waitForBackfill(gatewayUrl, b.apiKey, METER.slug);

    // Both after a live event each, with the same identity again and a new one.
    await sendAll(collectorUrl, a.apiKey, [...eventsOf(1).slice(0, 1), meterEvent({ id: 'live-1', source: 'same-source', type: TYPE, subject: 'cust-1', timeMs: Date.parse('2026-11-01T12:00:00Z'), dataJson: '{"tokens":2,"model":"gpt"}' })]);
    await sendAll(collectorUrl, b.apiKey, [...eventsOf(1000).slice(0, 1), meterEvent({ id: 'live-1', source: 'same-source', type: TYPE, subject: 'cust-1', timeMs: Date.parse('2026-11-01T12:00:00Z'), dataJson: '{"tokens":2000,"model":"gpt"}' })]);
    // Committed, not only visible in events_raw: an INSERT writes events_raw before the rollups'
    // views, so a row can be seen there a moment before it counts in usage.
    const ends = await topicEnds(EVENTS_TOPIC);
    await eventually(() => groupReached(SHARED_SINK_GROUP, EVENTS_TOPIC, ends), 'the sink to commit the live events');
    expect([await rowCount(a.orgId), await rowCount(b.orgId)]).toEqual([21, 21]);

    const args = { metric: METER.slug, ...RANGE, groupBy: ['subject', 'model'] };
    const ofA = await usageOf(gatewayUrl, a.apiKey, args);
    const ofB = await usageOf(gatewayUrl, b.apiKey, args);
    expect([ofA.total, ofA.rows.map((r) => [r.subject, r.dimensions.model, r.value, r.eventCount])]).toEqual(['22', [['cust-1', 'gpt', '22', '21']]]);
    expect([ofB.total, ofB.rows.map((r) => [r.subject, r.dimensions.model, r.value, r.eventCount])]).toEqual(['22000', [['cust-1', 'gpt', '22000', '21']]]);
    expect(await meterSlugs(gatewayUrl, a.apiKey)).toEqual([METER.slug]);
  });
});
