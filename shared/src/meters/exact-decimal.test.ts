import { describe, expect, it } from 'vitest';
import { parseJsonExact, type RawJsonNumber } from '../contracts/exact-json';
import { canonicalNumberText, isJsonNumberLiteral, toExactDecimal } from './exact-decimal';

/** The value of `{"v": <literal>}` as the sink parses it: exact numbers where a float would not be. */
const jsonNumber = (literal: string): unknown => (parseJsonExact(`{"v":${literal}}`) as { v: unknown }).v;
const decimalOf = (value: unknown) => {
  const result = toExactDecimal(value);
  return result.ok ? result.decimal : `invalid: ${result.reason}`;
};

describe('toExactDecimal: JSON numbers', () => {
  it.each([
    ['0', '0'],
    ['-0', '0'],
    ['-0.0', '0'],
    ['5', '5'],
    ['-17', '-17'],
    ['12.5', '12.5'],
    ['1.50', '1.5'],
    ['100', '100'],
    ['0.000000001', '0.000000001'],
    ['9007199254740993', '9007199254740993'],
    ['12345678901234567890.123456789', '12345678901234567890.123456789'],
    ['-12345678901234567890.123456789', '-12345678901234567890.123456789'],
    ['99999999999999999999.999999999', '99999999999999999999.999999999'],
    ['99999999999999999999', '99999999999999999999'],
    ['0.1234567890000000000', '0.123456789'],
    ['1.5e3', '1500'],
    ['1.5E3', '1500'],
    ['1.5e+3', '1500'],
    ['12.5e-1', '1.25'],
    ['1e-9', '0.000000001'],
    ['1.5e-7', '0.00000015'],
    ['1e19', '10000000000000000000'],
    ['9.99999999999999999999e19', '99999999999999999999.9'],
    ['123456789012345678901e-1', '12345678901234567890.1'],
    ['0e99999999999999999999', '0'],
    ['-0e-99999999999999999999', '0'],
    ['0.000e5', '0'],
  ])('%s → %s', (literal, decimal) => {
    expect(decimalOf(jsonNumber(literal))).toBe(decimal);
  });

  it('keeps 16+ digit numbers exact (they arrive as raw JSON text, never as a float)', () => {
    const value = jsonNumber('12345678901234567890.123456789');
    expect(typeof value).toBe('object');
    expect(decimalOf(value)).toBe('12345678901234567890.123456789');
    // As a float it would be 9007199254740992.
    expect(decimalOf(jsonNumber('9007199254740993'))).toBe('9007199254740993');
  });

  it.each([
    ['1e20', 'more than 20 integer digits'],
    ['1e21', 'more than 20 integer digits'],
    ['100000000000000000000', 'more than 20 integer digits'],
    ['-100000000000000000000.5', 'more than 20 integer digits'],
    ['123456789012345678901e-0', 'more than 20 integer digits'],
    ['1e99999999999999999999', 'more than 20 integer digits'],
    ['0.1234567891', 'more than 9 fractional digits'],
    ['1e-10', 'more than 9 fractional digits'],
    ['1.0000000001', 'more than 9 fractional digits'],
    ['12345678901234567890.1234567891', 'more than 9 fractional digits'],
    ['1e-99999999999999999999', 'more than 9 fractional digits'],
  ])('refuses %s (%s), never rounding', (literal, reason) => {
    expect(decimalOf(jsonNumber(literal))).toBe(`invalid: has ${reason}`);
  });
});

describe('toExactDecimal: strings holding a JSON number', () => {
  it.each([
    ['12.5', '12.5'],
    ['-3', '-3'],
    ['-0', '0'],
    ['1.50', '1.5'],
    ['1e3', '1000'],
    ['12345678901234567890.123456789', '12345678901234567890.123456789'],
  ])('"%s" → %s', (text, decimal) => {
    expect(decimalOf(text)).toBe(decimal);
  });

  it.each(['', ' 1', '1 ', '+1', '01', '.5', '1.', '-', '0x10', 'NaN', 'Infinity', '-Infinity', '1e', '1e+', '1_000', '1,5', '١٢', '12abc', 'null', '"1"', '1e21x'])(
    'refuses "%s"',
    (text) => {
      expect(decimalOf(text)).toBe('invalid: is a string that is not a JSON number (e.g. "12.5")');
    },
  );

  it('applies the same range to strings', () => {
    expect(decimalOf('1e21')).toBe('invalid: has more than 20 integer digits');
    expect(decimalOf('0.1234567891')).toBe('invalid: has more than 9 fractional digits');
  });
});

describe('toExactDecimal: what is not a number', () => {
  it.each<[string, unknown, string]>([
    ['missing', undefined, 'is missing'],
    ['null', null, 'is null'],
    ['true', true, 'is a boolean, not a number'],
    ['false', false, 'is a boolean, not a number'],
    ['an object', { value: 1 }, 'is an object, not a number'],
    ['an array', [1], 'is an array, not a number'],
    ['NaN', Number.NaN, 'is not a finite number'],
    ['Infinity', Number.POSITIVE_INFINITY, 'is not a finite number'],
  ])('%s', (_name, value, reason) => {
    expect(toExactDecimal(value)).toEqual({ ok: false, reason });
  });
});

describe('isJsonNumberLiteral', () => {
  it('is RFC 8259 number grammar', () => {
    for (const ok of ['0', '-0', '1.5', '1e5', '1E-5', '-1.5e+5']) expect(isJsonNumberLiteral(ok)).toBe(true);
    for (const bad of ['00', '+1', '.5', '5.', 'e5', '1e', ' 1', '0x1']) expect(isJsonNumberLiteral(bad)).toBe(false);
  });
});

describe('canonicalNumberText', () => {
  it('spells one value one way, whether it arrived as a float or as exact text', () => {
    const exact = jsonNumber('1.50000000000000000');
    expect(typeof exact).toBe('object');
    expect(canonicalNumberText(exact as RawJsonNumber)).toBe(String(1.5));
    expect(canonicalNumberText(jsonNumber('1.000000000000000000000e21') as RawJsonNumber)).toBe(String(1e21));
    expect(canonicalNumberText(jsonNumber('0.00000010000000000000000') as RawJsonNumber)).toBe(String(1e-7));
    expect(canonicalNumberText(jsonNumber('12345678901234567890') as RawJsonNumber)).toBe('12345678901234567890');
    expect(canonicalNumberText(-0)).toBe('0');
    expect(canonicalNumberText(jsonNumber('-0.000000000000000000') as RawJsonNumber)).toBe('0');
  });

  it('keeps the literal when it is beyond any decimal range', () => {
    expect(canonicalNumberText({ rawJSON: '1e-99999999999999999999' })).toBe('1e-99999999999999999999');
  });
});
