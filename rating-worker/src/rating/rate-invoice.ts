import {
  addMoney, compareDecimal, currencyMinorUnits, linesHash, ratePrice, subtractMoney, subtractQuantity, type BillingPeriod, type Price,
} from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import type { InvoiceLine } from '@polaris/postgres';

// The pure part of rating (docs/billing.md, "Rating"): a period's prices and quantities, and what
// earlier invoices billed for late periods, become lines and totals. No I/O and no clock, so the
// same inputs always give byte-identical lines (and the same lines_hash), wherever and whenever
// a job, a recompute, a finalization or an estimate runs it.

/** One meter's reading for one price over one period. */
export interface MeteredQuantity {
  /** Exact decimal text. */
  quantity: string;
  /** The meter version that answered. */
  meterVersionId?: string;
}

/** A finalized period of the subscription, inside the late-usage lookback. */
export interface LatePeriod {
  period: BillingPeriod;
  /** The currency of the period's own invoice. */
  currency: string;
  /** The prices the period's own invoice was rated with (its plan version), in version order. */
  prices: readonly Price[];
  /** What finalized and paid invoices billed for the period, per price key. */
  billed: ReadonlyMap<string, { amount: string; periodQuantity?: string }>;
  /** The period's usage now, per metered price key. */
  quantities: ReadonlyMap<string, MeteredQuantity>;
}

export interface RateInvoiceInput {
  currency: string;
  /** The subscription's time zone: late periods are named in it ("2026-10"). */
  timeZone: string;
  /** The usage this invoice bills: its period (an estimate: the period so far). */
  usagePeriod: BillingPeriod;
  /** The plan version's prices, in version order. */
  prices: readonly Price[];
  /** Per metered price key. */
  quantities: ReadonlyMap<string, MeteredQuantity>;
  late: readonly LatePeriod[];
}

export interface RatedInvoice {
  /** By position: prices in version order, then adjustments by period, then price key. */
  lines: InvoiceLine[];
  subtotal: string;
  total: string;
  linesHash: string;
}

/** The stable key of an adjustment line: one per late period and price. */
export const adjustmentKey = (periodStart: Date, priceKey: string): string => `adjustment:${periodStart.toISOString()}:${priceKey}`;

const isMetered = (price: Price): boolean => price.model !== 'FLAT';
const nameOf = (price: Price): string => price.name || price.key;

function quantityOf(quantities: ReadonlyMap<string, MeteredQuantity>, price: Price, period: BillingPeriod): MeteredQuantity {
  const read = quantities.get(price.key);
  // A quantity never defaults to 0: a reading that is missing is a bug, and would under-bill.
  if (!read) throw new Error(`rating: no quantity for price ${price.key} over ${period.start.toISOString()}`);
  return read;
}

/** `2026-10` for a period starting on the 1st at midnight in the zone, `2026-10-15` otherwise. */
export function periodLabel(start: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(start);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const monthly = part('day') === '01' && part('hour') === '00' && part('minute') === '00';
  return monthly ? `${part('year')}-${part('month')}` : `${part('year')}-${part('month')}-${part('day')}`;
}

function priceLine(price: Price, quantities: ReadonlyMap<string, MeteredQuantity>, period: BillingPeriod, minorUnits: number): Omit<InvoiceLine, 'position'> {
  const common = { lineKey: price.key, description: nameOf(price), priceKey: price.key, usagePeriodStart: period.start, usagePeriodEnd: period.end };
  if (!isMetered(price)) {
    const rated = ratePrice(price, '1', minorUnits);
    return { ...common, kind: 'flat', quantity: rated.quantity, billableQuantity: rated.billableQuantity, tiers: [], amount: rated.amount };
  }
  const read = quantityOf(quantities, price, period);
  const rated = ratePrice(price, read.quantity, minorUnits);
  return {
    ...common,
    kind: 'usage',
    ...(price.meterSlug === undefined ? {} : { meterSlug: price.meterSlug }),
    ...(read.meterVersionId === undefined ? {} : { meterVersionId: read.meterVersionId }),
    quantity: rated.quantity,
    billableQuantity: rated.billableQuantity,
    ...(rated.unitPrice === undefined ? {} : { unitPrice: rated.unitPrice }),
    tiers: rated.tiers,
    amount: rated.amount,
    periodQuantity: rated.quantity,
  };
}

/**
 * Late usage of a finalized period (docs/billing.md): `round(rate(Q_now)) − Σ billed` for the
 * price, with the quantity `Q_now − Q_billed`. Nothing when neither moved. May be negative (a
 * credit). Rated with the period's own prices, so a plan change never re-prices the past.
 */
function adjustmentLines(late: LatePeriod, currency: string, timeZone: string, minorUnits: number): Array<Omit<InvoiceLine, 'position'>> {
  if (late.currency !== currency) {
    throw new PolarisError(
      'failed_precondition',
      'currency_changed',
      `the period from ${late.period.start.toISOString()} was billed in ${late.currency}, this invoice is in ${currency}: late usage cannot be adjusted across currencies`,
    );
  }
  const lines: Array<Omit<InvoiceLine, 'position'>> = [];
  const metered = late.prices.filter(isMetered).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const price of metered) {
    const now = ratePrice(price, quantityOf(late.quantities, price, late.period).quantity, minorUnits);
    const billed = late.billed.get(price.key);
    const amount = subtractMoney(now.amount, billed?.amount ?? '0', minorUnits);
    const quantity = subtractQuantity(now.quantity, billed?.periodQuantity ?? '0');
    if (compareDecimal(amount, '0') === 0 && quantity === '0') continue;
    const read = late.quantities.get(price.key);
    lines.push({
      lineKey: adjustmentKey(late.period.start, price.key),
      kind: 'adjustment',
      description: `${nameOf(price)} — late usage for ${periodLabel(late.period.start, timeZone)}`,
      priceKey: price.key,
      ...(price.meterSlug === undefined ? {} : { meterSlug: price.meterSlug }),
      ...(read?.meterVersionId === undefined ? {} : { meterVersionId: read.meterVersionId }),
      usagePeriodStart: late.period.start,
      usagePeriodEnd: late.period.end,
      quantity,
      ...(now.unitPrice === undefined ? {} : { unitPrice: now.unitPrice }),
      tiers: [],
      amount,
      periodQuantity: now.quantity,
    });
  }
  return lines;
}

/** Lines, totals and lines_hash of one invoice. */
export function rateInvoice(input: RateInvoiceInput): RatedInvoice {
  const minorUnits = currencyMinorUnits(input.currency);
  const late = [...input.late].sort((a, b) => a.period.start.getTime() - b.period.start.getTime());
  const unpositioned = [
    ...input.prices.map((price) => priceLine(price, input.quantities, input.usagePeriod, minorUnits)),
    ...late.flatMap((period) => adjustmentLines(period, input.currency, input.timeZone, minorUnits)),
  ];
  const lines: InvoiceLine[] = unpositioned.map((line, position) => ({ ...line, position }));
  const subtotal = addMoney(
    lines.map((l) => l.amount),
    minorUnits,
  );
  // No taxes or discounts yet: the total is the subtotal.
  const total = subtotal;
  return { lines, subtotal, total, linesHash: linesHash({ currency: input.currency, subtotal, total, lines }) };
}
