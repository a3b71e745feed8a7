import { canonicalDecimal, compareDecimal, periodContaining, type BillingAnchor, type BillingPeriod, type Price } from '@polaris/shared/billing';

// What a threshold means at a given instant, computed, never stored (README "Usage thresholds"):
// the billing period it watches and its limit in the meter's unit. Pure code.

/**
 * The quantity a plan includes for a meter: the free quota of its prices on that meter. When
 * several prices rate the same meter, the smallest quota: beyond it something is charged.
 * Undefined when no price rates the meter, or one includes nothing.
 */
export function includedQuantity(prices: readonly Price[], meterSlug: string): string | undefined {
  const quotas = prices.filter((p) => p.meterSlug === meterSlug).map((p) => p.freeQuota);
  if (quotas.length === 0) return undefined;
  const smallest = quotas.reduce((min, q) => (compareDecimal(q, min) < 0 ? q : min));
  return compareDecimal(smallest, '0') > 0 ? canonicalDecimal(smallest) : undefined;
}

/** Decimal text as an integer and a power-of-ten scale, exactly. */
function scaled(text: string): { units: bigint; scale: number } {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const units = BigInt(`${whole}${fraction}` || '0');
  return { units: negative ? -units : units, scale: fraction.length };
}

/** percent × included / 100, exact (no rounding: the limit is compared, never billed). */
export function percentOf(percent: string, included: string): string {
  const p = scaled(percent);
  const q = scaled(included);
  const units = p.units * q.units;
  const scale = p.scale + q.scale + 2;
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const text = `${negative ? '-' : ''}${digits.slice(0, digits.length - scale)}${scale > 0 ? `.${digits.slice(digits.length - scale)}` : ''}`;
  return canonicalDecimal(text);
}

/** The subscription a threshold's periods follow: its schedule and its phases' prices, oldest first. */
export interface WatchedSubscription {
  billingAnchor: BillingAnchor;
  startAt: Date;
  timeZone: string;
  cancelAt?: Date;
  phases: ReadonlyArray<{ startsAt: Date; prices: readonly Price[] }>;
}

/**
 * The billing period holding `instant`: the active subscription's (as its invoice cuts it), or,
 * for a customer without one, the calendar month in the customer's time zone.
 */
export function periodOf(instant: Date, customerTimeZone: string, subscription?: WatchedSubscription): BillingPeriod {
  if (subscription) return periodContaining({ anchor: subscription.billingAnchor, startAt: subscription.startAt, timeZone: subscription.timeZone }, instant);
  // A calendar schedule from the epoch: its boundaries after the first are the 1st of each month, 00:00 local.
  return periodContaining({ anchor: 'calendar', startAt: new Date(0), timeZone: customerTimeZone }, instant);
}

/** The prices of the phase that bills a period: the one holding its start (as the invoice's). */
export function pricesFor(subscription: WatchedSubscription | undefined, period: BillingPeriod): readonly Price[] {
  if (!subscription) return [];
  const phase = subscription.phases.filter((p) => p.startsAt.getTime() <= period.start.getTime()).at(-1) ?? subscription.phases[0];
  return phase?.prices ?? [];
}

/**
 * A threshold's limit in the meter's unit for a period: the absolute quantity, or the percentage
 * of what the period's plan includes; undefined when a percent threshold's plan includes nothing
 * (then it cannot fire in that period).
 */
export function limitFor(
  threshold: { kind: 'absolute' | 'percent'; quantity?: string; percent?: string; meterSlug: string },
  prices: readonly Price[],
): string | undefined {
  if (threshold.kind === 'absolute') return threshold.quantity;
  const included = includedQuantity(prices, threshold.meterSlug);
  if (included === undefined || threshold.percent === undefined) return undefined;
  return percentOf(threshold.percent, included);
}
