// Usage thresholds and their firings as the repositories return them (README "Usage thresholds").
// Quantities are exact decimal text, never JS numbers.

export type ThresholdKind = 'absolute' | 'percent';

export interface UsageThreshold {
  id: string;
  organizationId: string;
  customerId: string;
  customerExternalId: string;
  meterSlug: string;
  kind: ThresholdKind;
  /** absolute: the limit, in the meter's unit. */
  quantity?: string;
  /** percent: of the quantity the customer's plan includes for the meter, in (0, 1000]. */
  percent?: string;
  status: 'active' | 'archived';
  createdAt: Date;
  archivedAt?: Date;
}

export interface ThresholdFiring {
  thresholdId: string;
  organizationId: string;
  customerId: string;
  customerExternalId: string;
  meterSlug: string;
  kind: ThresholdKind;
  percent?: string;
  /** [periodStart, periodEnd): the billing period it fired in. */
  periodStart: Date;
  periodEnd: Date;
  /** The limit in the meter's unit when it fired. */
  limitQuantity: string;
  /** The usage read that crossed it. */
  observedQuantity: string;
  notificationEventId?: string;
  firedAt: Date;
}
