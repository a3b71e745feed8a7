// The billing domain's shapes, shared by the PostgreSQL repositories, the rating-worker and the
// CLI. Amounts and quantities are exact decimal text (canonical: no exponent, no trailing zeros,
// never "-0"); arithmetic on them uses decimal.js, never a JS number. Design: docs/billing.md.

export const PRICE_MODELS = ['FLAT', 'PER_UNIT', 'GRADUATED', 'VOLUME', 'PACKAGE'] as const;
export type PriceModel = (typeof PRICE_MODELS)[number];

export const BILLING_ANCHORS = ['calendar', 'anniversary'] as const;
export type BillingAnchor = (typeof BILLING_ANCHORS)[number];

/** Tier i prices billable quantities in (from, upTo]; the last tier has no upTo. */
export interface PriceTier {
  from: string;
  /** undefined: no upper bound (the last tier only). */
  upTo?: string;
  unitPrice: string;
  flatFee: string;
}

/** A checked price (checkPrices): every decimal canonical, every field its model needs present. */
export interface Price {
  key: string;
  name: string;
  model: PriceModel;
  /** Absent for FLAT, required otherwise. */
  meterSlug?: string;
  /** FLAT */
  amount?: string;
  /** PER_UNIT */
  unitPrice?: string;
  /** GRADUATED, VOLUME */
  tiers?: PriceTier[];
  /** PACKAGE */
  packageSize?: string;
  packagePrice?: string;
  /** Metered models; "0" when none. */
  freeQuota: string;
}

/** A price as a user wrote it (CLI JSON, gRPC): unchecked text, every field optional. */
export interface PriceInput {
  key?: string;
  name?: string;
  model?: string;
  meterSlug?: string;
  amount?: string;
  unitPrice?: string;
  tiers?: Array<{ from?: string; upTo?: string; unitPrice?: string; flatFee?: string }>;
  packageSize?: string;
  packagePrice?: string;
  freeQuota?: string;
}

/** One tier's share of a GRADUATED or VOLUME line, exact (before the line is rounded). */
export interface TierPiece {
  /** 1-based */
  tier: number;
  from: string;
  upTo?: string;
  quantity: string;
  unitPrice: string;
  flatFee: string;
  amount: string;
}

/** What one price charges for one period's quantity (ratePrice). */
export interface RatedPrice {
  /** The period's quantity as read (FLAT: "1"). */
  quantity: string;
  /** max(0, quantity − free quota). */
  billableQuantity: string;
  /** The unit price that applied: PER_UNIT's, VOLUME's tier, PACKAGE's per package; undefined for GRADUATED and FLAT. */
  unitPrice?: string;
  /** PACKAGE: the packages charged, ceil(billable / package_size). */
  packages?: string;
  tiers: TierPiece[];
  /** Exact, before rounding. */
  exactAmount: string;
  /** Rounded to the currency's minor unit, half-even. */
  amount: string;
}

/** How a subscription's periods are cut (docs/billing.md, "Subscriptions and periods"). */
export interface BillingSchedule {
  anchor: BillingAnchor;
  /** The subscription's start (already truncated to the minute). */
  startAt: Date;
  /** IANA time zone of the customer, e.g. America/New_York. */
  timeZone: string;
}

/** [start, end): start inclusive, end exclusive. */
export interface BillingPeriod {
  start: Date;
  end: Date;
}
