/**
 * Test support for the invoice repositories (integration tests only; never imported by product
 * code): a customer on a published plan version with a subscription, inserted as the catalog
 * repositories would leave them, so invoice tests do not depend on the catalog's own checks.
 */
import { randomBytes } from 'node:crypto';
import { addMoney, firstPeriod, linesHash, type BillingAnchor, type Price } from '@polaris/shared/billing';
import type { Queryable } from '../pool';
import type { InvoiceLine } from './billing-records';
import type { InvoiceComputation } from './invoice-rating';

export interface SeededSubscription {
  customerId: string;
  planVersionId: string;
  subscriptionId: string;
}

const one = async (db: Queryable, sql: string, values: unknown[]): Promise<string> => {
  const { rows } = await db.query(sql, values);
  const row = rows[0] as { id?: string } | undefined;
  if (!row?.id) throw new Error(`fixture insert returned no id: ${sql}`);
  return row.id;
};

export async function seedSubscription(
  db: Queryable,
  opts: {
    organizationId: string;
    prices: Price[];
    currency?: string;
    anchor?: BillingAnchor;
    startAt: Date;
    timeZone?: string;
    subjects?: string[];
    cancelAt?: Date;
  },
): Promise<SeededSubscription> {
  const tag = randomBytes(4).toString('hex');
  const currency = opts.currency ?? 'USD';
  const timeZone = opts.timeZone ?? 'UTC';
  const customerId = await one(db, `INSERT INTO customers (organization_id, external_id, name, currency, time_zone) VALUES ($1, $2, $2, $3, $4) RETURNING id`, [
    opts.organizationId,
    `cust-${tag}`,
    currency,
    timeZone,
  ]);
  for (const subject of opts.subjects ?? []) {
    await db.query('INSERT INTO customer_subjects (organization_id, subject, customer_id) VALUES ($1, $2, $3)', [opts.organizationId, subject, customerId]);
  }
  const planId = await one(db, `INSERT INTO plans (organization_id, key, name) VALUES ($1, $2, $2) RETURNING id`, [opts.organizationId, `plan_${tag}`]);
  const planVersionId = await one(
    db,
    `INSERT INTO plan_versions (organization_id, plan_id, version, currency, status, prices, published_at)
     VALUES ($1, $2, 1, $3, 'published', $4::jsonb, now()) RETURNING id`,
    [opts.organizationId, planId, currency, JSON.stringify(opts.prices)],
  );
  const anchor = opts.anchor ?? 'calendar';
  const first = firstPeriod({ anchor, startAt: opts.startAt, timeZone });
  const subscriptionId = await one(
    db,
    `INSERT INTO subscriptions (organization_id, customer_id, billing_anchor, start_at, time_zone, billed_through, next_period_end, cancel_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [opts.organizationId, customerId, anchor, opts.startAt, timeZone, first.start, first.end, opts.cancelAt ?? null],
  );
  await db.query('INSERT INTO subscription_phases (subscription_id, organization_id, plan_version_id, starts_at) VALUES ($1, $2, $3, $4)', [
    subscriptionId,
    opts.organizationId,
    planVersionId,
    opts.startAt,
  ]);
  return { customerId, planVersionId, subscriptionId };
}

/** A computation with the given lines (amounts in USD), totals summed, hashed as the rating-worker hashes. */
export function computationOf(lines: Array<Omit<InvoiceLine, 'position' | 'tiers'> & { tiers?: InvoiceLine['tiers'] }>): InvoiceComputation {
  const full: InvoiceLine[] = lines.map((l, position) => ({ ...l, position, tiers: l.tiers ?? [] }));
  const total = addMoney(full.map((l) => l.amount), 2);
  return { lines: full, subtotal: total, total, linesHash: linesHash({ currency: 'USD', subtotal: total, total, lines: full }), usageAsOf: new Date() };
}
