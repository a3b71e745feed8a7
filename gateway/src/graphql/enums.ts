import { BillingAnchor as ProtoBillingAnchor, PriceModel as ProtoPriceModel, WindowSize as ProtoWindowSize } from '@polaris/proto';
import { PolarisError } from '@polaris/shared/errors';
import type {
  BillingAnchor,
  CustomerStatus,
  InvoiceLineKind,
  InvoiceStatus,
  PlanStatus,
  PlanVersionStatus,
  PriceModel,
  SubscriptionStatus,
  WindowSize,
} from './generated/resolvers-types';

// GraphQL enums to their proto values: the gateway translates them here and nowhere else. Keyed
// by the generated unions, so a value added to schema.graphql fails the typecheck until mapped.
// (MeterAggregation needs no table: its GraphQL names are the domain's, which
// @polaris/shared/meters maps to proto.)

const WINDOW_SIZE: Record<WindowSize, ProtoWindowSize> = {
  NONE: ProtoWindowSize.WINDOW_SIZE_UNSPECIFIED,
  MINUTE: ProtoWindowSize.WINDOW_SIZE_MINUTE,
  HOUR: ProtoWindowSize.WINDOW_SIZE_HOUR,
  DAY: ProtoWindowSize.WINDOW_SIZE_DAY,
  MONTH: ProtoWindowSize.WINDOW_SIZE_MONTH,
};

export const toProtoWindowSize = (value: WindowSize): ProtoWindowSize => WINDOW_SIZE[value];

const PRICE_MODEL: Record<PriceModel, ProtoPriceModel> = {
  FLAT: ProtoPriceModel.PRICE_MODEL_FLAT,
  PER_UNIT: ProtoPriceModel.PRICE_MODEL_PER_UNIT,
  GRADUATED: ProtoPriceModel.PRICE_MODEL_GRADUATED,
  VOLUME: ProtoPriceModel.PRICE_MODEL_VOLUME,
  PACKAGE: ProtoPriceModel.PRICE_MODEL_PACKAGE,
};

const BILLING_ANCHOR: Record<BillingAnchor, ProtoBillingAnchor> = {
  CALENDAR: ProtoBillingAnchor.BILLING_ANCHOR_CALENDAR,
  ANNIVERSARY: ProtoBillingAnchor.BILLING_ANCHOR_ANNIVERSARY,
};

export const toProtoPriceModel = (value: PriceModel): ProtoPriceModel => PRICE_MODEL[value];
export const toProtoBillingAnchor = (value: BillingAnchor): ProtoBillingAnchor => BILLING_ANCHOR[value];

/** The GraphQL value whose proto value is `value`; an answer outside the table is the service's bug. */
function fromProto<G extends string, P>(table: Record<G, P>, what: string): (value: P) => G {
  const byProto = new Map<P, G>(Object.entries(table).map(([g, p]) => [p as P, g as G]));
  return (value) => {
    const found = byProto.get(value);
    if (found === undefined) throw new PolarisError('internal', 'unknown_enum_value', `the billing service answered an unknown ${what} ${String(value)}`);
    return found;
  };
}

export const priceModelOf = fromProto(PRICE_MODEL, 'price model');
const anchorOf = fromProto(BILLING_ANCHOR, 'billing anchor');
// UNSPECIFIED is calendar, as billing.proto says.
export const billingAnchorOf = (value: ProtoBillingAnchor): BillingAnchor =>
  value === ProtoBillingAnchor.BILLING_ANCHOR_UNSPECIFIED ? 'CALENDAR' : anchorOf(value);

// Statuses and line kinds travel in proto as lower-case words ("draft").
const CUSTOMER_STATUS: Record<CustomerStatus, string> = { ACTIVE: 'active', ARCHIVED: 'archived' };
const PLAN_STATUS: Record<PlanStatus, string> = { ACTIVE: 'active', ARCHIVED: 'archived' };
const PLAN_VERSION_STATUS: Record<PlanVersionStatus, string> = { DRAFT: 'draft', PUBLISHED: 'published' };
const SUBSCRIPTION_STATUS: Record<SubscriptionStatus, string> = { ACTIVE: 'active', CANCELED: 'canceled' };
const INVOICE_STATUS: Record<InvoiceStatus, string> = { DRAFT: 'draft', FINALIZED: 'finalized', PAID: 'paid', VOID: 'void' };
const INVOICE_LINE_KIND: Record<InvoiceLineKind, string> = { FLAT: 'flat', USAGE: 'usage', ADJUSTMENT: 'adjustment' };

export const customerStatusOf = fromProto(CUSTOMER_STATUS, 'customer status');
export const planStatusOf = fromProto(PLAN_STATUS, 'plan status');
export const planVersionStatusOf = fromProto(PLAN_VERSION_STATUS, 'plan version status');
export const subscriptionStatusOf = fromProto(SUBSCRIPTION_STATUS, 'subscription status');
export const invoiceStatusOf = fromProto(INVOICE_STATUS, 'invoice status');
export const invoiceLineKindOf = fromProto(INVOICE_LINE_KIND, 'invoice line kind');
export const toProtoInvoiceStatus = (value: InvoiceStatus): string => INVOICE_STATUS[value];
