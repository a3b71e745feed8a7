import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customers } from '../billing/customers.repository';
import { organizations } from '../identity/organizations.repository';
import { backfillQueue } from '../meters/backfill-queue.repository';
import { meters } from '../meters/meters.repository';
import { withOrg } from '../tenant-scope';
import { throwawayPostgres, type ThrowawayPostgres } from '../testing/throwaway-database';
import { thresholdFirings } from '../thresholds/threshold-firings.repository';
import { periodOf } from '../thresholds/threshold-terms';
import { usageThresholds } from '../thresholds/usage-thresholds.repository';
import { catalogueEntry } from './event-catalogue';

// The catalogue (README "Event catalogue") is what receivers are promised; the producers other
// than the invoice lifecycle (checked end to end: e2e/notifications.e2e.test.ts) write their
// payloads by hand. Here each one's real write is read back from the outbox and must parse with
// its type's schema, so a producer and the catalogue cannot drift apart unnoticed.

let db: ThrowawayPostgres;
let organizationId: string;

beforeAll(async () => {
  db = await throwawayPostgres();
  const slug = `cat-${randomBytes(3).toString('hex')}`;
  organizationId = (await organizations.create(db.pool, { name: slug, slug })).id;
});
afterAll(async () => db?.drop());

/** The outbox payloads of one type in the organization. */
async function payloadsOf(type: string): Promise<unknown[]> {
  const { rows } = await db.pool.query('SELECT payload FROM notification_events WHERE organization_id = $1 AND type = $2 ORDER BY created_at', [organizationId, type]);
  return rows.map((r: { payload: unknown }) => r.payload);
}

function expectCatalogued(type: string, payload: unknown): void {
  const entry = catalogueEntry(type, 1);
  expect(entry, type).toBeDefined();
  const parsed = entry?.schema.safeParse(payload);
  expect(parsed?.success ? 'ok' : parsed?.error.issues, `${type}: ${JSON.stringify(payload)}`).toBe('ok');
}

describe('producers write what the event catalogue promises', () => {
  it('meter.backfill_completed, as a completed backfill run records it', async () => {
    await meters.create(db.pool, { organizationId, slug: 'tokens', definition: { eventType: 'llm.completion', aggregation: 'SUM', valuePath: '$.tokens', dimensions: [] } });
    const claimed = await backfillQueue.claim(db.pool, { workerId: 'w1' }, { claimTtlMs: 60_000, leaseGraceMs: 0, maxAttempts: 3 });
    await backfillQueue.complete(db.pool, { runId: claimed?.run.id ?? '', workerId: 'w1', eventsDone: 7 });
    const payloads = await payloadsOf('meter.backfill_completed');
    expect(payloads).toHaveLength(1);
    for (const payload of payloads) expectCatalogued('meter.backfill_completed', payload);
  });

  it('usage.threshold_crossed, absolute and percent, as a firing records it', async () => {
    await meters.create(db.pool, { organizationId, slug: 'api_calls', definition: { eventType: 'api.call', aggregation: 'COUNT', dimensions: [] } });
    const customer = await customers.create(db.pool, { organizationId, externalId: 'acme', name: 'Acme', currency: 'USD', subjects: ['acme-app'] });
    await withOrg(db.appPool, organizationId, async (tx) => {
      await usageThresholds.create(tx, { organizationId, customerId: customer.id, meter: 'api_calls', quantity: '1000.50' });
      // A percent threshold's creation needs a plan including the meter; its firing reads only the row.
      await tx.query(
        `INSERT INTO usage_thresholds (organization_id, customer_id, meter_id, kind, percent)
         SELECT $1, $2, id, 'percent', 80 FROM meters WHERE organization_id = $1 AND slug = 'api_calls'`,
        [organizationId, customer.id],
      );
    });
    const now = new Date();
    await withOrg(db.appPool, organizationId, async (tx) => {
      for (const threshold of await thresholdFirings.watched(tx, organizationId)) {
        const period = periodOf(now, threshold.customerTimeZone, threshold.subscription);
        expect(await thresholdFirings.fire(tx, { threshold, period, limit: threshold.quantity ?? '800', observed: '1000.75', observedAt: now })).toBe(true);
      }
    });
    const payloads = await payloadsOf('usage.threshold_crossed');
    expect((payloads as Array<{ kind: string }>).map((p) => p.kind).sort()).toEqual(['absolute', 'percent']);
    for (const payload of payloads) expectCatalogued('usage.threshold_crossed', payload);
  });
});
