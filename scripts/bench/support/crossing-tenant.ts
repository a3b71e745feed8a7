import { apiKeys, customers, meters, organizations, usageThresholds, webhookEndpoints, withOrg, type Pool } from '@polaris/postgres';

/**
 * The organization bench:notify's threshold crossings happen in, made through the same
 * repositories as the services' APIs: an events:write key for the collector, one COUNT meter,
 * `count` customers with one subject and one absolute threshold each, and a webhook endpoint
 * subscribed to usage.threshold_crossed only. Lives in the bench's own database (dropped with it).
 */

export const CROSSING_EVENT_TYPE = 'bench.call';
const METER_SLUG = 'bench_calls';
const SETUP_CONCURRENCY = 8;
const POLL_MS = 250;

export interface CrossingCustomer {
  externalId: string;
  subject: string;
  thresholdId: string;
}

export interface CrossingTenant {
  organizationId: string;
  apiKey: string;
  meterSlug: string;
  customers: CrossingCustomer[];
  /** The endpoint's signing secret (whsec_…): the receiver verifies with it. */
  webhookSecret: string;
}

/** `limit`: each customer's threshold, in calls of the period. */
export async function createCrossingTenant(pool: Pool, input: { run: string; count: number; limit: number; receiverUrl: string }): Promise<CrossingTenant> {
  const org = await organizations.create(pool, { name: `Bench notify ${input.run}`, slug: `bench-notify-${input.run}` });
  const organizationId = org.id;
  const { key } = await apiKeys.create(pool, { organizationId, name: `bench ${input.run}`, scopes: ['events:write'] });
  await meters.create(pool, { organizationId, slug: METER_SLUG, name: 'Bench calls', definition: { eventType: CROSSING_EVENT_TYPE, aggregation: 'COUNT', dimensions: [] } });
  const made: CrossingCustomer[] = [];
  for (let i = 0; i < input.count; i += SETUP_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(SETUP_CONCURRENCY, input.count - i) }, (_, j) => i + j);
    made.push(
      ...(await Promise.all(
        batch.map(async (n) => {
          const externalId = `bench-customer-${n}`;
          const subject = `bench-subject-${n}`;
          await customers.create(pool, { organizationId, externalId, name: `Bench customer ${n}`, currency: 'USD', subjects: [subject] });
          const threshold = await withOrg(pool, organizationId, (tx) =>
            usageThresholds.create(tx, { organizationId, externalId, meter: METER_SLUG, quantity: String(input.limit) }),
          );
          return { externalId, subject, thresholdId: threshold.id };
        }),
      )),
    );
  }
  const { secret } = await webhookEndpoints.create(pool, { organizationId, url: input.receiverUrl, description: 'bench:notify receiver', eventTypes: ['usage.threshold_crossed'] });
  return { organizationId, apiKey: key, meterSlug: METER_SLUG, customers: made, webhookSecret: secret };
}

/** Until the meter's first backfill (by the sink-worker) has completed: usage is read complete from then on. */
export async function waitForMeterLive(pool: Pool, organizationId: string, slug: string, capMs: number): Promise<void> {
  const until = Date.now() + capMs;
  for (;;) {
    const meter = await meters.get(pool, { organizationId, slug });
    if (meter.currentVersion.state === 'ready' && !meter.pendingVersion) return;
    if (Date.now() > until) throw new Error(`meter ${slug} still not live after ${capMs} ms (version state ${meter.currentVersion.state}); see the sink-worker's log`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
