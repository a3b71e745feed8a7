import type { BillingAnchor, Price } from '@polaris/shared/billing';

// The billing rows as the repositories return them (docs/billing.md). Numeric columns come back
// from node-postgres as text and stay text: exact decimals, never JS numbers.

export interface Customer {
  id: string;
  organizationId: string;
  externalId: string;
  name: string;
  email: string;
  currency: string;
  timeZone: string;
  /** Sorted. */
  subjects: string[];
  status: 'active' | 'archived';
  createdAt: Date;
  updatedAt: Date;
}

export interface PlanVersion {
  id: string;
  organizationId: string;
  planId: string;
  planKey: string;
  version: number;
  currency: string;
  status: 'draft' | 'published';
  prices: Price[];
  createdAt: Date;
  publishedAt?: Date;
}

export interface Plan {
  id: string;
  organizationId: string;
  key: string;
  name: string;
  description: string;
  status: 'active' | 'archived';
  /** Newest first. */
  versions: PlanVersion[];
  createdAt: Date;
  updatedAt: Date;
}

export interface SubscriptionPhase {
  planVersionId: string;
  planKey: string;
  planVersion: number;
  startsAt: Date;
}

export interface Subscription {
  id: string;
  organizationId: string;
  customerId: string;
  customerExternalId: string;
  billingAnchor: BillingAnchor;
  startAt: Date;
  timeZone: string;
  status: 'active' | 'canceled';
  /** Oldest first. */
  phases: SubscriptionPhase[];
  cancelAt?: Date;
  /** Every period before this instant has an invoice. */
  billedThrough: Date;
  /** The end of the next period to invoice, [billedThrough, nextPeriodEnd). */
  nextPeriodEnd: Date;
  createdAt: Date;
  updatedAt: Date;
}

export type InvoiceStatus = 'draft' | 'finalized' | 'paid' | 'void';
export type InvoiceLineKind = 'flat' | 'usage' | 'adjustment';

export interface InvoiceLine {
  lineKey: string;
  position: number;
  kind: InvoiceLineKind;
  description: string;
  priceKey: string;
  meterSlug?: string;
  meterVersionId?: string;
  usagePeriodStart: Date;
  usagePeriodEnd: Date;
  quantity?: string;
  billableQuantity?: string;
  unitPrice?: string;
  tiers: import('@polaris/shared/billing').TierPiece[];
  amount: string;
  periodQuantity?: string;
}

export interface InvoiceEvent {
  action: 'created' | 'computed' | 'recomputed' | 'rating_failed' | 'finalized' | 'paid' | 'voided';
  fromStatus?: InvoiceStatus;
  toStatus: InvoiceStatus;
  actor: string;
  detail: Record<string, unknown>;
  at: Date;
}

export interface Invoice {
  id: string;
  organizationId: string;
  number?: string;
  customerId: string;
  customerExternalId: string;
  subscriptionId: string;
  planVersionId: string;
  periodStart: Date;
  periodEnd: Date;
  currency: string;
  status: InvoiceStatus;
  /** Undefined until first computed. */
  subtotal?: string;
  total?: string;
  linesHash?: string;
  usageAsOf?: Date;
  computedAt?: Date;
  ratingError?: string;
  finalizeAfter: Date;
  finalizedAt?: Date;
  paidAt?: Date;
  voidedAt?: Date;
  createdAt: Date;
  /** Sorted by position. */
  lines: InvoiceLine[];
  /** Oldest first. */
  history: InvoiceEvent[];
}
