import type { Customer, Invoice } from '@polaris/proto';
import { ORG } from './fake-backends';

// Billing answers as the rating-worker's services give them (rating-worker/src/billing/*-proto.ts).

export function customer(id: string, externalId = `ext-${id}`): Customer {
  return {
    id,
    organizationId: ORG,
    externalId,
    name: `Customer ${id}`,
    email: '',
    currency: 'USD',
    timeZone: 'UTC',
    subjects: [externalId],
    status: 'active',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-01T00:00:00Z'),
  };
}

/** An invoice as ListInvoices answers it (no lines, no history) or, with `lines`, as GetInvoice does. */
export function invoice(id: string, customerId: string, total: string, withDetails = false): Invoice {
  return {
    id,
    organizationId: ORG,
    number: '',
    customerId,
    customerExternalId: `ext-${customerId}`,
    subscriptionId: `sub-${customerId}`,
    planVersionId: 'pv-1',
    periodStart: new Date('2026-01-01T00:00:00Z'),
    periodEnd: new Date('2026-02-01T00:00:00Z'),
    currency: 'USD',
    status: 'draft',
    lines: withDetails
      ? [
          {
            lineKey: 'calls',
            kind: 'usage',
            description: 'API calls',
            priceKey: 'calls',
            meterSlug: 'api_calls',
            meterVersionId: '1',
            usagePeriodStart: new Date('2026-01-01T00:00:00Z'),
            usagePeriodEnd: new Date('2026-02-01T00:00:00Z'),
            quantity: '1500',
            billableQuantity: '500',
            unitPrice: '0.002',
            tiers: [],
            amount: total,
            periodQuantity: '1500',
          },
        ]
      : [],
    subtotal: total,
    total,
    usageAsOf: new Date('2026-02-01T00:06:00Z'),
    linesHash: 'h',
    ratingError: '',
    estimate: false,
    history: withDetails ? [{ action: 'created', fromStatus: '', toStatus: 'draft', actor: 'rating-worker', detail: '{}', at: new Date('2026-02-01T00:05:00Z') }] : [],
    createdAt: new Date('2026-02-01T00:05:00Z'),
    firedThresholds: [],
  };
}

/** BatchGetCustomers over `customer()`: every id is found, except those in `unknown`. */
export const batchGetCustomers =
  (unknown: readonly string[] = []) =>
  (req: Record<string, unknown>) => ({ customers: (req.customerIds as string[]).filter((id) => !unknown.includes(id)).map((id) => customer(id)) });
