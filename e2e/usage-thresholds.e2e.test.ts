import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/http';
import { meterEvent, sendAll, type MeterEvent } from './support/meter-events';
import { createMeter, dataOf, graphqlAt, waitForBackfill } from './support/meters';
import { startMeterSystem, type MeterSystem } from './support/meters-system';
import type { Tenant } from './support/tenants';

/**
 * Usage thresholds through the real pipeline (README "Usage thresholds"; docs/ARCHITECTURE.md,
 * "Exactly-once threshold firings"): events go collector → broker → sink → ClickHouse, the
 * rating-worker evaluates every second from the rollups through the sink's Usage API, and the
 * threshold is managed and read through the gateway. It fires exactly once in the period, though
 * events arrive twice, the sink is killed and restarted, and the meter is backfilled again
 * afterwards; the outbox holds exactly one usage.threshold_crossed event, and one
 * meter.backfill_completed per completed run.
 */

const INTERVAL_MS = 1_000;
const TYPE = 'api.call';
/** Evaluations that must pass without a firing before "it did not fire" is believed. */
const QUIET_MS = 4 * INTERVAL_MS;
const SCOPES = ['events:write', 'usage:read', 'meters:write', 'billing:read', 'billing:write'] as const;

interface Firing {
  thresholdId: string;
  periodStart: string;
  limitQuantity: string;
  observedQuantity: string;
}

describe('usage thresholds, end to end', () => {
  let sys: MeterSystem;
  let tenant: Tenant;
  const gql = <T>(query: string, variables: Record<string, unknown> = {}) => graphqlAt<T>(sys.gatewayUrl, tenant.apiKey, query, variables);
  const firings = async (thresholdId: string) =>
    dataOf(
      await gql<{ usageThresholdFirings: Firing[] }>('query($id: ID) { usageThresholdFirings(thresholdId: $id) { thresholdId periodStart limitQuantity observedQuantity } }', { id: thresholdId }),
      'usageThresholdFirings',
    ).usageThresholdFirings;
  const outbox = async (type: string) => {
    const client = new pg.Client({ connectionString: sys.databaseUrl });
    await client.connect();
    try {
      return (await client.query('SELECT dedupe_key FROM notification_events WHERE organization_id = $1 AND type = $2', [tenant.orgId, type])).rows as Array<{ dedupe_key: string }>;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    sys = await startMeterSystem({ label: 'usage-thresholds', ratingEnv: { THRESHOLD_EVALUATION_INTERVAL_MS: String(INTERVAL_MS) } });
    tenant = await sys.createTenant([...SCOPES]);
  });
  afterAll(async () => sys?.stop());

  it('fires once in the period despite duplicate events, a sink restart and a backfill', async () => {
    await createMeter(sys.gatewayUrl, tenant.apiKey, { slug: 'calls', name: 'Calls', eventType: TYPE, aggregation: 'COUNT' });
    await waitForBackfill(sys.gatewayUrl, tenant.apiKey, 'calls');
    dataOf(
      await gql('mutation { createCustomer(input: { externalId: "acme", name: "Acme", currency: "USD", subjects: ["acme-1"] }) { id } }'),
      'createCustomer',
    );
    // Bad input is refused naming the argument.
    const refused = await gql('mutation { createUsageThreshold(input: { externalId: "acme", meter: "nope", quantity: "5" }) { id } }');
    expect(refused.errors?.[0]?.extensions).toMatchObject({ reason: 'meter_not_found', field: 'input.meter' });
    const created = dataOf(
      await gql<{ createUsageThreshold: { id: string; kind: string; quantity: string } }>(
        'mutation { createUsageThreshold(input: { externalId: "acme", meter: "calls", quantity: "5" }) { id kind quantity } }',
      ),
      'createUsageThreshold',
    ).createUsageThreshold;
    expect(created).toMatchObject({ kind: 'ABSOLUTE', quantity: '5' });

    // Three calls, each sent twice (a client retry): three count, below 5.
    const now = Date.now();
    const first: MeterEvent[] = [0, 1, 2].map((i) => meterEvent({ id: `call-${i}`, type: TYPE, subject: 'acme-1', timeMs: now - (i + 1) * 1_000, dataJson: '{}' }));
    await sendAll(sys.collectorUrl, tenant.apiKey, [...first, ...first]);
    await eventually(async () => (await sys.caughtUp()) ?? undefined, 'the sink to store the first calls', 30_000, 100);
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    expect(await firings(created.id)).toEqual([]);

    // The sink dies and comes back; two more calls and the first three again: five, the limit.
    await sys.killSink();
    await sys.restartSink();
    const second = [3, 4].map((i) => meterEvent({ id: `call-${i}`, type: TYPE, subject: 'acme-1', timeMs: now - (i + 1) * 1_000, dataJson: '{}' }));
    await sendAll(sys.collectorUrl, tenant.apiKey, [...second, ...first]);
    const fired = await eventually(async () => {
      const found = await firings(created.id);
      return found.length > 0 ? found : undefined;
    }, 'the threshold to fire', 60_000, 250);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ limitQuantity: '5', observedQuantity: '5' });

    // A backfill rebuilds the meter from stored events, and more usage arrives: still the one firing.
    dataOf(await gql('mutation { startMeterBackfill(slug: "calls") { id } }'), 'startMeterBackfill');
    await waitForBackfill(sys.gatewayUrl, tenant.apiKey, 'calls');
    await sendAll(sys.collectorUrl, tenant.apiKey, [meterEvent({ id: 'call-5', type: TYPE, subject: 'acme-1', timeMs: Date.now(), dataJson: '{}' })]);
    await eventually(async () => (await sys.caughtUp()) ?? undefined, 'the sink to store the last call', 30_000, 100);
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    expect(await firings(created.id)).toHaveLength(1);
    expect((await outbox('usage.threshold_crossed')).map((r) => r.dedupe_key)).toEqual([`usage.threshold_crossed:${created.id}:${fired[0]?.periodStart ?? ''}`]);
    // The meter's creation and the backfill: each completed run recorded once.
    expect(await outbox('meter.backfill_completed')).toHaveLength(2);

    const listed = dataOf(await gql<{ usageThresholds: Array<{ id: string }> }>('{ usageThresholds(externalId: "acme") { id } }'), 'usageThresholds').usageThresholds;
    expect(listed.map((t) => t.id)).toEqual([created.id]);
    const deleted = dataOf(await gql<{ deleteUsageThreshold: { status: string } }>('mutation($id: ID!) { deleteUsageThreshold(id: $id) { status } }', { id: created.id }), 'delete');
    expect(deleted.deleteUsageThreshold.status).toBe('ARCHIVED');
  });
});
