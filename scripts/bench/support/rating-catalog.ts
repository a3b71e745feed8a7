import { customers, meters, organizations, plans, subscriptions, type Pool } from '@polaris/postgres';
import { throwawayPostgres } from '@polaris/postgres/testing';
import type { DevConfig } from '../../src/config';
import type { Cleanup } from './bench-system';
import { runClosedLoop } from './load';
import { externalIdOf, RATING_METERS, RATING_PRICES, subjectOf } from './rating-dataset';

/**
 * bench:rating's PostgreSQL side: a database of its own, migrated like the real one, and the
 * billing catalog made through the same repositories as the Customers, Plans and Subscriptions
 * services. The rest is the bench's own control of the clock-driven part: every subscription is
 * held not due until the timed run starts, and put back to unbilled between runs.
 */

/** Until released, a subscription's next period ends here: the scan finds nothing to rate. */
const HOLD_UNTIL = new Date('9000-01-01T00:00:00Z');
/** Catalog writes in flight while setting up: a few connections keep the server busy without queueing. */
const SETUP_CONCURRENCY = 8;

/** A migrated database of its own on the stack's server (@polaris/postgres/testing), dropped by `cleanup`. */
export async function benchPostgres(cfg: DevConfig, cleanup: Cleanup): Promise<{ url: string; appUrl: string; pool: Pool }> {
  const db = await throwawayPostgres({ serverUrl: cfg.postgres.url, poolMax: SETUP_CONCURRENCY + 2 });
  cleanup.add('drop the bench database', () => db.drop());
  return db;
}

export interface RatingCatalog {
  organizationId: string;
  /** Meter version ids, in RATING_METERS order. */
  meterVersionIds: string[];
  planVersionId: string;
}

/**
 * The organization, its three meters (marked ready, as a completed backfill would: the Usage API
 * answers complete = false until then, and rating refuses that), and the published plan.
 */
export async function createRatingCatalog(pool: Pool, run: string): Promise<RatingCatalog> {
  const org = await organizations.create(pool, { name: `Bench rating ${run}`, slug: `bench-rating-${run}` });
  const meterVersionIds: string[] = [];
  for (const m of RATING_METERS) {
    const meter = await meters.create(pool, { organizationId: org.id, slug: m.slug, definition: m.definition });
    await pool.query(`UPDATE meter_versions SET state = 'ready' WHERE organization_id = $1 AND id = $2`, [org.id, meter.currentVersion.id]);
    meterVersionIds.push(meter.currentVersion.id);
  }
  await plans.create(pool, { organizationId: org.id, key: 'bench', name: 'Bench plan', currency: 'USD', prices: RATING_PRICES });
  const version = await plans.publishVersion(pool, { organizationId: org.id, planKey: 'bench', version: 1 });
  return { organizationId: org.id, meterVersionIds, planVersionId: version.id };
}

/**
 * `count` customers with one subject each, each subscribed to the plan from `startAt` (calendar
 * anchor, UTC), through the repositories, a few at a time.
 */
export async function subscribeCustomers(pool: Pool, organizationId: string, count: number, startAt: Date): Promise<void> {
  const indexes = Array.from({ length: count }, (_, i) => i);
  const made = await runClosedLoop(indexes, SETUP_CONCURRENCY, 3_600_000, async (i) => {
    const customer = await customers.create(pool, {
      organizationId,
      externalId: externalIdOf(i),
      name: `Bench customer ${i}`,
      currency: 'USD',
      subjects: [subjectOf(i)],
    });
    await subscriptions.create(pool, { organizationId, customer: { customerId: customer.id }, planKey: 'bench', startAt, billingAnchor: 'calendar' });
    return 1;
  });
  if (made.errors.length > 0 || made.events !== count) throw new Error(`creating customers failed (${made.events}/${count}): ${made.errors.slice(0, 3).join('; ')}`);
}

/** No invoices, every subscription back at its start and held not due (before each run). */
export async function resetAndHold(pool: Pool, organizationId: string): Promise<void> {
  await pool.query('DELETE FROM invoices WHERE organization_id = $1', [organizationId]); // lines and history: ON DELETE CASCADE
  await pool.query(`UPDATE subscriptions SET billed_through = start_at, next_period_end = $2, status = 'active', updated_at = now() WHERE organization_id = $1`, [
    organizationId,
    HOLD_UNTIL,
  ]);
}

/**
 * Makes every subscription's first period due (it ends at `periodEnd`, in the past): the next
 * scan finds them all. Answers the database's clock at that commit: the run's start.
 */
export async function releaseDue(pool: Pool, organizationId: string, periodEnd: Date, count: number): Promise<Date> {
  const { rows } = await pool.query<{ t0: Date; n: string }>(
    `WITH released AS (UPDATE subscriptions SET next_period_end = $2 WHERE organization_id = $1 RETURNING 1)
     SELECT clock_timestamp() AS t0, count(*)::text AS n FROM released`,
    [organizationId, periodEnd],
  );
  const row = rows[0];
  if (!row || Number(row.n) !== count) throw new Error(`released ${row?.n ?? 0} subscriptions, expected ${count}`);
  return row.t0;
}

export interface RatingProgress {
  invoices: number;
  computed: number;
  failedAttempts: number;
  firstCreated?: Date;
  lastComputed?: Date;
}

/** Invoices of the organization so far: opened, computed, carrying a rating error. */
export async function ratingProgress(pool: Pool, organizationId: string): Promise<RatingProgress> {
  const { rows } = await pool.query<{ invoices: string; computed: string; failed: string; first: Date | null; last: Date | null }>(
    `SELECT count(*)::text AS invoices, count(computed_at)::text AS computed, count(rating_error)::text AS failed,
            min(created_at) AS first, max(computed_at) AS last
       FROM invoices WHERE organization_id = $1`,
    [organizationId],
  );
  const r = rows[0];
  return {
    invoices: Number(r?.invoices ?? 0),
    computed: Number(r?.computed ?? 0),
    failedAttempts: Number(r?.failed ?? 0),
    ...(r?.first ? { firstCreated: r.first } : {}),
    ...(r?.last ? { lastComputed: r.last } : {}),
  };
}

/** Every invoice line of the organization, by customer external id: what the verification compares. */
export async function invoiceLines(pool: Pool, organizationId: string) {
  const { rows } = await pool.query<{ externalId: string; status: string; total: string | null; priceKey: string | null; quantity: string | null; amount: string | null }>(
    `SELECT c.external_id AS "externalId", i.status, i.total::text AS total, l.price_key AS "priceKey", l.quantity::text AS quantity, l.amount::text AS amount
       FROM invoices i
       JOIN customers c ON c.id = i.customer_id AND c.organization_id = i.organization_id
       LEFT JOIN invoice_lines l ON l.invoice_id = i.id AND l.organization_id = i.organization_id
      WHERE i.organization_id = $1`,
    [organizationId],
  );
  return rows;
}
