import { currentPeriod, type Customer as StoredCustomer, type Plan as StoredPlan, type PlanVersion as StoredVersion, type Subscription as StoredSubscription } from '@polaris/postgres';
import type { BillingAnchor as StoredAnchor, Price as StoredPrice, PriceInput, PriceModel as StoredModel } from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import { BillingAnchor, PriceModel, type Customer, type Plan, type PlanVersion, type Price, type Subscription } from '@polaris/proto';

// The one place the catalog (customers, plans, subscriptions) crosses between proto and the
// repositories: enums, optional fields, timestamps. Decimals stay text both ways.

const MODELS: ReadonlyArray<[PriceModel, StoredModel]> = [
  [PriceModel.PRICE_MODEL_FLAT, 'FLAT'],
  [PriceModel.PRICE_MODEL_PER_UNIT, 'PER_UNIT'],
  [PriceModel.PRICE_MODEL_GRADUATED, 'GRADUATED'],
  [PriceModel.PRICE_MODEL_VOLUME, 'VOLUME'],
  [PriceModel.PRICE_MODEL_PACKAGE, 'PACKAGE'],
];
const modelToProto = new Map(MODELS.map(([proto, stored]) => [stored, proto]));
const modelFromProto = new Map(MODELS);

/**
 * A proto price as checkPrices takes it. An unset or unknown model becomes "" and is refused there,
 * naming `prices[i].model`; unset strings ("") mean "not given", as proto3 has no other way to say it.
 */
export function priceFromProto(price: Price): PriceInput {
  return {
    key: price.key,
    name: price.name,
    model: modelFromProto.get(price.model) ?? '',
    meterSlug: price.meterSlug,
    amount: price.amount,
    unitPrice: price.unitPrice,
    tiers: price.tiers.map((t) => ({ from: t.from, upTo: t.upTo, unitPrice: t.unitPrice, flatFee: t.flatFee })),
    packageSize: price.packageSize,
    packagePrice: price.packagePrice,
    freeQuota: price.freeQuota,
  };
}

export function priceToProto(price: StoredPrice): Price {
  return {
    key: price.key,
    name: price.name,
    model: modelToProto.get(price.model) ?? PriceModel.PRICE_MODEL_UNSPECIFIED,
    meterSlug: price.meterSlug ?? '',
    amount: price.amount ?? '',
    unitPrice: price.unitPrice ?? '',
    tiers: (price.tiers ?? []).map((t) => ({ from: t.from, upTo: t.upTo ?? '', unitPrice: t.unitPrice, flatFee: t.flatFee })),
    packageSize: price.packageSize ?? '',
    packagePrice: price.packagePrice ?? '',
    freeQuota: price.freeQuota,
  };
}

/** UNSPECIFIED is calendar, as the proto says. */
export function anchorFromProto(anchor: BillingAnchor): StoredAnchor {
  switch (anchor) {
    case BillingAnchor.BILLING_ANCHOR_UNSPECIFIED:
    case BillingAnchor.BILLING_ANCHOR_CALENDAR:
      return 'calendar';
    case BillingAnchor.BILLING_ANCHOR_ANNIVERSARY:
      return 'anniversary';
    default:
      throw new PolarisError('invalid_argument', 'invalid_billing_anchor', 'billing_anchor must be BILLING_ANCHOR_CALENDAR or BILLING_ANCHOR_ANNIVERSARY', 'billing_anchor');
  }
}

export const anchorToProto = (anchor: StoredAnchor): BillingAnchor =>
  anchor === 'anniversary' ? BillingAnchor.BILLING_ANCHOR_ANNIVERSARY : BillingAnchor.BILLING_ANCHOR_CALENDAR;

export function customerToProto(customer: StoredCustomer): Customer {
  return {
    id: customer.id,
    organizationId: customer.organizationId,
    externalId: customer.externalId,
    name: customer.name,
    email: customer.email,
    currency: customer.currency,
    timeZone: customer.timeZone,
    subjects: customer.subjects,
    status: customer.status,
    createdAt: customer.createdAt,
    updatedAt: customer.updatedAt,
  };
}

export function planVersionToProto(version: StoredVersion): PlanVersion {
  return {
    id: version.id,
    planId: version.planId,
    planKey: version.planKey,
    version: version.version,
    currency: version.currency,
    status: version.status,
    prices: version.prices.map(priceToProto),
    createdAt: version.createdAt,
    publishedAt: version.publishedAt,
  };
}

export function planToProto(plan: StoredPlan): Plan {
  return {
    id: plan.id,
    organizationId: plan.organizationId,
    key: plan.key,
    name: plan.name,
    description: plan.description,
    status: plan.status,
    versions: plan.versions.map(planVersionToProto),
    createdAt: plan.createdAt,
    updatedAt: plan.updatedAt,
  };
}

/** `now` decides the current period, the one the answer shows. */
export function subscriptionToProto(subscription: StoredSubscription, now: Date = new Date()): Subscription {
  const period = currentPeriod(subscription, now);
  return {
    id: subscription.id,
    organizationId: subscription.organizationId,
    customerId: subscription.customerId,
    customerExternalId: subscription.customerExternalId,
    status: subscription.status,
    billingAnchor: anchorToProto(subscription.billingAnchor),
    startAt: subscription.startAt,
    timeZone: subscription.timeZone,
    phases: subscription.phases.map((p) => ({ planVersionId: p.planVersionId, planKey: p.planKey, planVersion: p.planVersion, startsAt: p.startsAt })),
    currentPeriodStart: period.start,
    currentPeriodEnd: period.end,
    cancelAt: subscription.cancelAt,
    billedThrough: subscription.billedThrough,
    createdAt: subscription.createdAt,
    updatedAt: subscription.updatedAt,
  };
}
