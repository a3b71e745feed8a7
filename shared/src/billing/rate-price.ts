/**
 * What one price charges for one period's quantity (docs/billing.md, "Price models"). Exact:
 * every piece is decimal.js arithmetic on text, and the line is rounded once, half to even, to
 * the currency's minor unit. The same price and quantity always give the same text, whatever
 * order the period's events arrived in: the quantity is one number per period.
 */

import { BillingDecimal, canonical, roundMoney, toDecimal } from './decimal';
import type { Price, PriceTier, RatedPrice, TierPiece } from './types';

const ZERO = new BillingDecimal(0);

/** A field `checkPrices` guarantees for the model; missing means an unchecked price reached rating. */
function checked<T>(value: T | undefined, price: Price, field: string): T {
  if (value === undefined) throw new Error(`billing: ${price.model} price "${price.key}" has no ${field}: prices must pass checkPrices`);
  return value;
}

export function ratePrice(price: Price, quantity: string, minorUnits: number): RatedPrice {
  if (price.model === 'FLAT') {
    const amount = canonical(toDecimal(checked(price.amount, price, 'amount'), 'amount'));
    return { quantity: '1', billableQuantity: '1', tiers: [], exactAmount: amount, amount: roundMoney(amount, minorUnits) };
  }

  const read = toDecimal(quantity, 'quantity');
  // A negative quantity (a LATEST meter may fall below zero) bills as 0, like one inside the quota.
  const billable = BillingDecimal.max(ZERO, read.minus(toDecimal(price.freeQuota, 'free quota')));
  const rated = rateBillable(price, billable);
  const exactAmount = canonical(rated.exact);
  return {
    quantity: canonical(read),
    billableQuantity: canonical(billable),
    ...(rated.unitPrice === undefined ? {} : { unitPrice: rated.unitPrice }),
    ...(rated.packages === undefined ? {} : { packages: rated.packages }),
    tiers: rated.tiers,
    exactAmount,
    amount: roundMoney(exactAmount, minorUnits),
  };
}

interface Rated {
  exact: BillingDecimal;
  unitPrice?: string;
  packages?: string;
  tiers: TierPiece[];
}

function rateBillable(price: Price, billable: BillingDecimal): Rated {
  switch (price.model) {
    case 'PER_UNIT': {
      const unitPrice = checked(price.unitPrice, price, 'unit price');
      return { exact: billable.times(toDecimal(unitPrice, 'unit price')), unitPrice, tiers: [] };
    }
    case 'GRADUATED':
      return rateGraduated(checked(price.tiers, price, 'tiers'), billable);
    case 'VOLUME':
      return rateVolume(checked(price.tiers, price, 'tiers'), billable);
    case 'PACKAGE': {
      const size = toDecimal(checked(price.packageSize, price, 'package size'), 'package size');
      const packagePrice = checked(price.packagePrice, price, 'package price');
      // A started package is a whole package: ceil, computed exactly (no division rounding).
      let packages = billable.dividedToIntegerBy(size);
      if (packages.times(size).lt(billable)) packages = packages.plus(1);
      return { exact: packages.times(toDecimal(packagePrice, 'package price')), unitPrice: packagePrice, packages: canonical(packages), tiers: [] };
    }
    case 'FLAT':
      throw new Error('billing: FLAT prices are rated without a quantity');
  }
}

function piece(index: number, tier: PriceTier, units: BillingDecimal): TierPiece {
  const amount = units.times(toDecimal(tier.unitPrice, 'unit price')).plus(toDecimal(tier.flatFee, 'flat fee'));
  return {
    tier: index + 1,
    from: tier.from,
    ...(tier.upTo === undefined ? {} : { upTo: tier.upTo }),
    quantity: canonical(units),
    unitPrice: tier.unitPrice,
    flatFee: tier.flatFee,
    amount: canonical(amount),
  };
}

/** Each tier prices the units in (from, up_to], plus its flat fee once a unit reaches it; a tier no unit reaches is not listed. */
function rateGraduated(tiers: readonly PriceTier[], billable: BillingDecimal): Rated {
  const pieces: TierPiece[] = [];
  let exact = ZERO;
  tiers.forEach((tier, i) => {
    const from = toDecimal(tier.from, 'tier start');
    if (!billable.gt(from)) return;
    const top = tier.upTo === undefined ? billable : BillingDecimal.min(billable, toDecimal(tier.upTo, 'tier bound'));
    const p = piece(i, tier, top.minus(from));
    pieces.push(p);
    exact = exact.plus(p.amount);
  });
  return { exact, tiers: pieces };
}

/** The one tier whose (from, up_to] holds the billable quantity prices all of it; 0 charges nothing. */
function rateVolume(tiers: readonly PriceTier[], billable: BillingDecimal): Rated {
  if (billable.isZero()) return { exact: ZERO, tiers: [] };
  const index = tiers.findIndex((tier) => tier.upTo === undefined || billable.lte(toDecimal(tier.upTo, 'tier bound')));
  const tier = tiers[index];
  if (tier === undefined) throw new Error('billing: the last tier must be unbounded: prices must pass checkPrices');
  const p = piece(index, tier, billable);
  return { exact: toDecimal(p.amount, 'amount'), unitPrice: tier.unitPrice, tiers: [p] };
}
