import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMoney, addQuantity, BillingDecimal, canonicalDecimal, compareDecimal, roundMoney, subtractMoney, subtractQuantity } from './decimal';

/** Decimal text: an integer part and up to 9 fraction digits, either sign. */
const decimalText = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 0, max: 9 }), fc.bigInt({ min: 0n, max: 10n ** 9n - 1n }))
  .map(([negative, int, digits, frac]) => {
    const fraction = digits === 0 ? '' : `.${frac.toString().padStart(9, '0').slice(0, digits)}`;
    return `${negative ? '-' : ''}${int}${fraction}`;
  });

describe('canonical decimal text', () => {
  it.each([
    ['1.50', '1.5'],
    ['-0', '0'],
    ['-0.000', '0'],
    ['007', '7'],
    ['0.0000000000001', '0.0000000000001'],
    ['123456789012345678901234567890.123456789', '123456789012345678901234567890.123456789'],
  ])('%s → %s', (input, expected) => expect(canonicalDecimal(input)).toBe(expected));

  it.each(['1e3', '+1', ' 1', 'NaN', 'Infinity', '.5', '1.', ''])('refuses %j (a bug upstream, not user input)', (input) => {
    expect(() => canonicalDecimal(input)).toThrow(/not decimal text/);
  });

  it('compares and subtracts exactly', () => {
    expect(compareDecimal('0.1', '0.10')).toBe(0);
    expect(compareDecimal('-2', '1')).toBe(-1);
    expect(compareDecimal('10', '9.999999999')).toBe(1);
    expect(subtractQuantity('0.3', '0.1')).toBe('0.2');
    expect(subtractQuantity('5', '5.0')).toBe('0');
    expect(subtractQuantity('1', '2.5')).toBe('-1.5');
    expect(addQuantity('0.1', '0.2')).toBe('0.3');
  });
});

describe('roundMoney: half to even, fixed minor digits', () => {
  it.each([
    ['0.125', 2, '0.12'],
    ['0.135', 2, '0.14'],
    ['0.0125', 2, '0.01'],
    ['0.0375', 2, '0.04'],
    ['12.5', 2, '12.50'],
    ['1200', 0, '1200'],
    ['1199.5', 0, '1200'],
    ['1198.5', 0, '1198'],
    ['1.25', 3, '1.250'],
    ['1.0005', 3, '1.000'],
    ['1.0015', 3, '1.002'],
    ['-0.125', 2, '-0.12'],
    ['-0.001', 2, '0.00'],
    ['-0.4', 0, '0'],
    ['0', 2, '0.00'],
  ])('%s with %i digits → %s', (exact, digits, expected) => expect(roundMoney(exact, digits)).toBe(expected));

  it('refuses a minor-unit count no currency has', () => {
    expect(() => roundMoney('1', -1)).toThrow();
    expect(() => roundMoney('1', 2.5)).toThrow();
  });

  it('is within half a minor unit of the exact value, and a tie goes to the even digit', () => {
    fc.assert(
      fc.property(decimalText, fc.integer({ min: 0, max: 4 }), (exact, digits) => {
        const rounded = roundMoney(exact, digits);
        expect(rounded).toMatch(digits === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${digits}}$`));
        expect(rounded).not.toMatch(/^-0(\.0*)?$/);
        const unit = new BillingDecimal(10).pow(-digits);
        const error = new BillingDecimal(rounded).minus(exact).abs();
        expect(error.lte(unit.div(2))).toBe(true);
        if (error.eq(unit.div(2))) {
          const lastDigit = new BillingDecimal(rounded).abs().times(new BillingDecimal(10).pow(digits)).mod(10);
          expect(lastDigit.mod(2).isZero()).toBe(true);
        }
      }),
    );
  });

  it('sends an exact tie to the even neighbour', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.integer({ min: 0, max: 4 }), (k, digits) => {
        // (k + 0.5) minor units: exactly halfway between k and k + 1.
        const unit = new BillingDecimal(10).pow(-digits);
        const exact = new BillingDecimal(k.toString()).plus(0.5).times(unit);
        const rounded = new BillingDecimal(roundMoney(exact.toFixed(), digits)).div(unit);
        const even = new BillingDecimal(k.toString()).mod(2).isZero() ? new BillingDecimal(k.toString()) : new BillingDecimal(k.toString()).plus(1);
        expect(rounded.eq(even)).toBe(true);
      }),
    );
  });
});

describe('addMoney and subtractMoney: rounded amounts only', () => {
  it('sums exactly with the currency digits', () => {
    expect(addMoney(['0.10', '0.20'], 2)).toBe('0.30');
    expect(addMoney([], 2)).toBe('0.00');
    expect(addMoney([], 0)).toBe('0');
    expect(addMoney(['1.250', '0.005'], 3)).toBe('1.255');
    expect(addMoney(['1', '2.5'], 2)).toBe('3.50');
    expect(addMoney(['-1.00', '1.00'], 2)).toBe('0.00');
    expect(subtractMoney('1.00', '1.50', 2)).toBe('-0.50');
    expect(subtractMoney('1200', '1200', 0)).toBe('0');
  });

  it('refuses an unrounded amount rather than rounding it silently', () => {
    expect(() => addMoney(['0.125'], 2)).toThrow(/minor digits/);
    expect(() => subtractMoney('1', '0.5', 0)).toThrow(/minor digits/);
  });
});
