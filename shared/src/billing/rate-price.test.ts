import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BillingDecimal } from './decimal';
import { checkPrices } from './price-input';
import { ratePrice } from './rate-price';
import type { Price, PriceInput, RatedPrice } from './types';

const priceOf = (input: PriceInput): Price => {
  const [price] = checkPrices([input]);
  if (!price) throw new Error('no price');
  return price;
};
const D = (text: string) => new BillingDecimal(text);
const sum = (texts: readonly string[]) => texts.reduce((total, text) => total.plus(text), D('0'));

const ladder = [
  { upTo: '1000', unitPrice: '0.01' },
  { unitPrice: '0.005', flatFee: '2' },
];
const perUnit = (unitPrice: string, freeQuota = '') => priceOf({ key: 'api', model: 'PER_UNIT', meterSlug: 'api', unitPrice, freeQuota });
const graduated = priceOf({ key: 'tokens', model: 'GRADUATED', meterSlug: 'tokens', tiers: ladder });
const volume = priceOf({ key: 'tokens', model: 'VOLUME', meterSlug: 'tokens', tiers: ladder });
const pack = priceOf({ key: 'gb', model: 'PACKAGE', meterSlug: 'gb', packageSize: '1000', packagePrice: '5' });
const flat = priceOf({ key: 'base', model: 'FLAT', amount: '49' });

describe('ratePrice: the worked examples of docs/billing.md (USD, quantity 1,500)', () => {
  it('PER_UNIT 0.002, free quota 1,000: 500 × 0.002 = 1.00', () => {
    expect(ratePrice(perUnit('0.002', '1000'), '1500', 2)).toEqual({
      quantity: '1500',
      billableQuantity: '500',
      unitPrice: '0.002',
      tiers: [],
      exactAmount: '1',
      amount: '1.00',
    });
  });

  it('GRADUATED (0,1000] 0.01, (1000,∞) 0.005 + flat 2: 10 + 4.50 = 14.50', () => {
    expect(ratePrice(graduated, '1500', 2)).toEqual({
      quantity: '1500',
      billableQuantity: '1500',
      tiers: [
        { tier: 1, from: '0', upTo: '1000', quantity: '1000', unitPrice: '0.01', flatFee: '0', amount: '10' },
        { tier: 2, from: '1000', quantity: '500', unitPrice: '0.005', flatFee: '2', amount: '4.5' },
      ],
      exactAmount: '14.5',
      amount: '14.50',
    });
  });

  it('VOLUME, same tiers: 1,500 in tier 2, 1500 × 0.005 + 2 = 9.50', () => {
    expect(ratePrice(volume, '1500', 2)).toEqual({
      quantity: '1500',
      billableQuantity: '1500',
      unitPrice: '0.005',
      tiers: [{ tier: 2, from: '1000', quantity: '1500', unitPrice: '0.005', flatFee: '2', amount: '9.5' }],
      exactAmount: '9.5',
      amount: '9.50',
    });
  });

  it('PACKAGE 1000 for 5: ceil(1.5) = 2 packages → 10.00', () => {
    expect(ratePrice(pack, '1500', 2)).toEqual({
      quantity: '1500',
      billableQuantity: '1500',
      unitPrice: '5',
      packages: '2',
      tiers: [],
      exactAmount: '10',
      amount: '10.00',
    });
  });

  it('FLAT 49: 49.00, whatever the usage', () => {
    const rated = { quantity: '1', billableQuantity: '1', tiers: [], exactAmount: '49', amount: '49.00' };
    expect(ratePrice(flat, '1500', 2)).toEqual(rated);
    expect(ratePrice(flat, '0', 2)).toEqual(rated);
    expect(ratePrice(flat, '-3', 2)).toEqual(rated);
  });

  it('rounding: 0.0125 × 1 → 0.01 (half-even), × 3 = 0.0375 → 0.04', () => {
    expect(ratePrice(perUnit('0.0125'), '1', 2)).toMatchObject({ exactAmount: '0.0125', amount: '0.01' });
    expect(ratePrice(perUnit('0.0125'), '3', 2)).toMatchObject({ exactAmount: '0.0375', amount: '0.04' });
  });
});

describe('ratePrice: currencies, edges, quotas', () => {
  it('prints the currency digits: JPY 0, KWD 3', () => {
    expect(ratePrice(perUnit('1.2'), '1000', 0)).toMatchObject({ exactAmount: '1200', amount: '1200' });
    expect(ratePrice(perUnit('0.5'), '3', 0)).toMatchObject({ exactAmount: '1.5', amount: '2' });
    expect(ratePrice(perUnit('0.5'), '5', 0)).toMatchObject({ exactAmount: '2.5', amount: '2' });
    expect(ratePrice(perUnit('0.00125'), '1000', 3)).toMatchObject({ exactAmount: '1.25', amount: '1.250' });
    expect(ratePrice(perUnit('0.0000125'), '100', 3)).toMatchObject({ exactAmount: '0.00125', amount: '0.001' });
    expect(ratePrice(flat, '0', 3)).toMatchObject({ amount: '49.000' });
    expect(ratePrice(flat, '0', 0)).toMatchObject({ amount: '49' });
  });

  it('a quantity inside the free quota, or negative, bills 0', () => {
    expect(ratePrice(perUnit('0.002', '1000'), '999.5', 2)).toMatchObject({ quantity: '999.5', billableQuantity: '0', exactAmount: '0', amount: '0.00' });
    expect(ratePrice(perUnit('0.002'), '-12.5', 2)).toMatchObject({ quantity: '-12.5', billableQuantity: '0', exactAmount: '0', amount: '0.00' });
    expect(ratePrice(graduated, '-1', 2)).toMatchObject({ billableQuantity: '0', tiers: [], amount: '0.00' });
    expect(ratePrice(volume, '0', 2)).toMatchObject({ billableQuantity: '0', tiers: [], exactAmount: '0', amount: '0.00' });
    expect(ratePrice(pack, '0', 2)).toMatchObject({ packages: '0', exactAmount: '0', amount: '0.00' });
  });

  it('quantities are canonicalised: 1500.000 is 1500', () => {
    expect(ratePrice(perUnit('0.002'), '1500.000', 2)).toMatchObject({ quantity: '1500', billableQuantity: '1500', exactAmount: '3' });
  });

  it('GRADUATED lists only the tiers a unit reaches: exactly 1,000 stays in tier 1, no flat fee of tier 2', () => {
    expect(ratePrice(graduated, '1000', 2)).toMatchObject({ tiers: [{ tier: 1, quantity: '1000', amount: '10' }], amount: '10.00' });
    expect(ratePrice(graduated, '1000.000000001', 2).tiers).toEqual([
      { tier: 1, from: '0', upTo: '1000', quantity: '1000', unitPrice: '0.01', flatFee: '0', amount: '10' },
      { tier: 2, from: '1000', quantity: '0.000000001', unitPrice: '0.005', flatFee: '2', amount: '2.000000000005' },
    ]);
  });

  it('GRADUATED with a free quota prices the billable units from tier 1', () => {
    const withQuota = priceOf({ key: 'tokens', model: 'GRADUATED', meterSlug: 'tokens', tiers: ladder, freeQuota: '500' });
    expect(ratePrice(withQuota, '1500', 2)).toMatchObject({ billableQuantity: '1000', tiers: [{ tier: 1, quantity: '1000' }], amount: '10.00' });
  });

  it('VOLUME: a quantity on a bound belongs to the tier it ends', () => {
    expect(ratePrice(volume, '1000', 2)).toMatchObject({ unitPrice: '0.01', tiers: [{ tier: 1, quantity: '1000' }], amount: '10.00' });
    expect(ratePrice(volume, '0.5', 2)).toMatchObject({ unitPrice: '0.01', exactAmount: '0.005', amount: '0.00' });
  });

  it('PACKAGE: a started package is a whole one; an exact multiple is not rounded up', () => {
    expect(ratePrice(pack, '1', 2)).toMatchObject({ packages: '1', amount: '5.00' });
    expect(ratePrice(pack, '2000', 2)).toMatchObject({ packages: '2', amount: '10.00' });
    expect(ratePrice(pack, '2000.000000001', 2)).toMatchObject({ packages: '3', amount: '15.00' });
    const fractional = priceOf({ key: 'gb', model: 'PACKAGE', meterSlug: 'gb', packageSize: '0.25', packagePrice: '0.1' });
    expect(ratePrice(fractional, '1', 2)).toMatchObject({ packages: '4', exactAmount: '0.4' });
  });

  it('stays exact with the largest prices and quantities (no float, no exponent)', () => {
    const big = perUnit('99999999999999999999.999999999999');
    const rated = ratePrice(big, '99999999999999999999999999999.999999999', 2);
    expect(rated.exactAmount).toBe(D('99999999999999999999.999999999999').times('99999999999999999999999999999.999999999').toFixed());
    expect(rated.exactAmount).not.toMatch(/e/i);
    expect(ratePrice(perUnit('0.000000000001'), '0.000000001', 2)).toMatchObject({ exactAmount: '0.000000000000000000001', amount: '0.00' });
  });

  it('refuses text that is not a decimal quantity (a bug upstream)', () => {
    expect(() => ratePrice(perUnit('1'), '1e3', 2)).toThrow(/not decimal text/);
    expect(() => ratePrice(perUnit('1'), 'NaN', 2)).toThrow(/not decimal text/);
  });
});

// ---- properties ----

/** Non-negative decimal text: an integer part and up to 9 fraction digits. */
const quantityText = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 0, max: 9 }), fc.bigInt({ min: 0n, max: 10n ** 9n - 1n }))
  .map(([int, digits, frac]) => (digits === 0 ? `${int}` : `${int}.${frac.toString().padStart(9, '0').slice(0, digits)}`));
const moneyText = fc
  .tuple(fc.bigInt({ min: 0n, max: 1000n }), fc.integer({ min: 0, max: 6 }), fc.bigInt({ min: 0n, max: 999_999n }))
  .map(([int, digits, frac]) => (digits === 0 ? `${int}` : `${int}.${frac.toString().padStart(6, '0').slice(0, digits)}`));
/** A valid ladder: 1 to 6 tiers with growing positive bounds, the last unbounded. */
const tierLadder = fc
  .array(fc.tuple(quantityText.filter((q) => D(q).gt(0)), moneyText, fc.option(moneyText, { nil: undefined })), { minLength: 1, maxLength: 6 })
  .map((rungs) => {
    let bound = D('0');
    return rungs.map(([step, unitPrice, flatFee], i) => {
      bound = bound.plus(step);
      return i === rungs.length - 1 ? { unitPrice, flatFee } : { upTo: bound.toFixed(), unitPrice, flatFee };
    });
  });
const tiered = (model: 'GRADUATED' | 'VOLUME') =>
  fc.tuple(tierLadder, fc.option(quantityText, { nil: undefined })).map(([tiers, freeQuota]) => priceOf({ key: 'p', model, meterSlug: 'm', tiers, freeQuota }));
const anyPrice: fc.Arbitrary<Price> = fc.oneof(
  fc.tuple(moneyText, fc.option(quantityText, { nil: undefined })).map(([unitPrice, freeQuota]) => perUnit(unitPrice, freeQuota)),
  tiered('GRADUATED'),
  tiered('VOLUME'),
  fc
    .tuple(quantityText.filter((q) => D(q).gt(0)), moneyText)
    .map(([packageSize, packagePrice]) => priceOf({ key: 'p', model: 'PACKAGE', meterSlug: 'm', packageSize, packagePrice })),
  moneyText.map((amount) => priceOf({ key: 'p', model: 'FLAT', amount })),
);
const minorUnits = fc.constantFrom(0, 2, 3);

const CANONICAL = /^(0|-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?)$/;
function expectCanonical(rated: RatedPrice): void {
  for (const text of [rated.quantity, rated.billableQuantity, rated.exactAmount, rated.unitPrice ?? '0', ...rated.tiers.flatMap((t) => [t.quantity, t.amount])]) {
    expect(text).toMatch(CANONICAL);
    expect(text).not.toBe('-0');
  }
}

describe('ratePrice: properties', () => {
  it('GRADUATED: the exact amount is the sum of its tier pieces, and the pieces hold the billable quantity', () => {
    fc.assert(
      fc.property(tiered('GRADUATED'), quantityText, minorUnits, (price, quantity, digits) => {
        const rated = ratePrice(price, quantity, digits);
        expectCanonical(rated);
        expect(D(rated.exactAmount).eq(sum(rated.tiers.map((t) => t.amount)))).toBe(true);
        expect(D(rated.billableQuantity).eq(sum(rated.tiers.map((t) => t.quantity)))).toBe(true);
        for (const piece of rated.tiers) {
          expect(D(piece.quantity).gt(0)).toBe(true);
          if (piece.upTo !== undefined) expect(D(piece.quantity).lte(D(piece.upTo).minus(piece.from))).toBe(true);
        }
      }),
    );
  });

  it('VOLUME: exactly one tier, the one holding the billable quantity (none at 0)', () => {
    fc.assert(
      fc.property(tiered('VOLUME'), quantityText, minorUnits, (price, quantity, digits) => {
        const rated = ratePrice(price, quantity, digits);
        expectCanonical(rated);
        const billable = D(rated.billableQuantity);
        if (billable.isZero()) {
          expect(rated.tiers).toEqual([]);
          expect(rated.exactAmount).toBe('0');
          return;
        }
        expect(rated.tiers).toHaveLength(1);
        const [piece] = rated.tiers;
        if (!piece) throw new Error('no tier');
        expect(billable.gt(piece.from)).toBe(true);
        if (piece.upTo !== undefined) expect(billable.lte(piece.upTo)).toBe(true);
        expect(piece.quantity).toBe(rated.billableQuantity);
        expect(D(rated.exactAmount).eq(billable.times(piece.unitPrice).plus(piece.flatFee))).toBe(true);
      }),
    );
  });

  it('PACKAGE never under-bills: packages × size ≥ billable > (packages − 1) × size', () => {
    fc.assert(
      fc.property(quantityText.filter((q) => D(q).gt(0)), moneyText, quantityText, (packageSize, packagePrice, quantity) => {
        const price = priceOf({ key: 'p', model: 'PACKAGE', meterSlug: 'm', packageSize, packagePrice });
        const rated = ratePrice(price, quantity, 2);
        const packages = D(rated.packages ?? 'NaN');
        expect(packages.isInteger()).toBe(true);
        const billable = D(rated.billableQuantity);
        expect(packages.times(packageSize).gte(billable)).toBe(true);
        if (billable.gt(0)) expect(packages.minus(1).times(packageSize).lt(billable)).toBe(true);
        else expect(packages.isZero()).toBe(true);
        expect(D(rated.exactAmount).eq(packages.times(packagePrice))).toBe(true);
      }),
    );
  });

  it('the free quota comes off first: billable = max(0, quantity − quota)', () => {
    fc.assert(
      fc.property(anyPrice.filter((p) => p.model !== 'FLAT'), quantityText, fc.boolean(), (price, quantity, negative) => {
        const read = negative && quantity !== '0' ? `-${quantity}` : quantity;
        const rated = ratePrice(price, read, 2);
        expect(D(rated.billableQuantity).eq(BillingDecimal.max(0, D(read).minus(price.freeQuota)))).toBe(true);
      }),
    );
  });

  it('the rounded amount is the exact one, half-even, with the currency digits', () => {
    fc.assert(
      fc.property(anyPrice, quantityText, minorUnits, (price, quantity, digits) => {
        const rated = ratePrice(price, quantity, digits);
        expectCanonical(rated);
        expect(rated.amount).toBe(D(rated.exactAmount).toDecimalPlaces(digits, BillingDecimal.ROUND_HALF_EVEN).toFixed(digits));
      }),
    );
  });

  it('never depends on event order or batching: any partition of the events, in any order, rates the same', () => {
    fc.assert(
      fc.property(
        anyPrice,
        fc.array(quantityText, { minLength: 1, maxLength: 30 }),
        fc.infiniteStream(fc.integer({ min: 0, max: 1000 })),
        minorUnits,
        (price, events, noise, digits) => {
          // Reorder the events and cut them into batches, summing each batch before the whole (as rollups do).
          const shuffled = events.map((e, i) => ({ e, k: noise.next().value * 31 + i })).sort((a, b) => a.k - b.k).map(({ e }) => e);
          const batchSums: string[] = [];
          let batch: string[] = [];
          for (const event of shuffled) {
            batch.push(event);
            if (noise.next().value % 3 === 0) {
              batchSums.push(sum(batch).toFixed());
              batch = [];
            }
          }
          if (batch.length > 0) batchSums.push(sum(batch).toFixed());
          const inOrder = ratePrice(price, sum(events).toFixed(), digits);
          expect(ratePrice(price, sum(batchSums).toFixed(), digits)).toEqual(inOrder);
        },
      ),
    );
  });
});
