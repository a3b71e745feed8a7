import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DecimalScalar } from './decimal.scalar';

describe('the Decimal scalar', () => {
  it('reads number literals from their text, never through a float', () => {
    expect(DecimalScalar.parseLiteral({ kind: Kind.INT, value: '99999999999999999999' })).toBe('99999999999999999999');
    expect(DecimalScalar.parseLiteral({ kind: Kind.FLOAT, value: '0.1000000000000000055' })).toBe('0.1000000000000000055');
    expect(DecimalScalar.parseLiteral({ kind: Kind.STRING, value: '-12.50' })).toBe('-12.50');
  });

  it('takes strings from variables, and numbers only when they are safe integers', () => {
    expect(DecimalScalar.parseValue('0.0001')).toBe('0.0001');
    expect(DecimalScalar.parseValue(10)).toBe('10');
    expect(() => DecimalScalar.parseValue(0.1)).toThrow(/must be a string \("0.1"\)/);
    expect(() => DecimalScalar.parseValue(2 ** 60)).toThrow(/must be a string/);
  });

  it('refuses what is not plain decimal text, saying what to write', () => {
    for (const bad of ['1e3', '+1', ' 1', '1.', '.5', '0x10', '', 'NaN', '1'.repeat(65)]) {
      expect(() => DecimalScalar.parseValue(bad), bad).toThrow(/Decimal/);
    }
    expect(() => DecimalScalar.parseLiteral({ kind: Kind.FLOAT, value: '1e3' })).toThrow(/no exponent/);
    expect(() => DecimalScalar.parseLiteral({ kind: Kind.BOOLEAN, value: true })).toThrow(/decimal text/);
  });

  it('answers the services\' decimal text as it is, always a string', () => {
    expect(DecimalScalar.serialize('1.250')).toBe('1.250');
    expect(() => DecimalScalar.serialize(1.25)).toThrow(/decimal text/);
  });
});
