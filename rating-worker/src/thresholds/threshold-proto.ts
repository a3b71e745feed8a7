import type { ThresholdFiring, UsageThreshold as StoredThreshold } from '@polaris/postgres';
import type { UsageThreshold, UsageThresholdFiring } from '@polaris/proto';

// The one place usage thresholds cross between proto and the repositories. Decimals stay text;
// an absent quantity or percent is "" (proto3 has no other way to say it).

export function thresholdToProto(t: StoredThreshold): UsageThreshold {
  return {
    id: t.id,
    organizationId: t.organizationId,
    customerId: t.customerId,
    customerExternalId: t.customerExternalId,
    meterSlug: t.meterSlug,
    kind: t.kind,
    quantity: t.quantity ?? '',
    percent: t.percent ?? '',
    status: t.status,
    createdAt: t.createdAt,
    ...(t.archivedAt ? { archivedAt: t.archivedAt } : {}),
  };
}

export function firingToProto(f: ThresholdFiring): UsageThresholdFiring {
  return {
    thresholdId: f.thresholdId,
    customerId: f.customerId,
    customerExternalId: f.customerExternalId,
    meterSlug: f.meterSlug,
    kind: f.kind,
    percent: f.percent ?? '',
    periodStart: f.periodStart,
    periodEnd: f.periodEnd,
    limitQuantity: f.limitQuantity,
    observedQuantity: f.observedQuantity,
    firedAt: f.firedAt,
  };
}
