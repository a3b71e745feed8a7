import { describe, expect, it } from 'vitest';
import { PolarisError } from '../errors';
import { checkCurrency, currencyMinorUnits } from './currency';

describe('currencies', () => {
  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['JPY', 0],
    ['KWD', 3],
    ['BHD', 3],
    ['CLF', 4],
  ])('%s has %i minor digits', (code, digits) => {
    expect(currencyMinorUnits(code)).toBe(digits);
    expect(checkCurrency(code)).toBe(code);
  });

  it.each(['usd', 'Usd', 'US', 'USDX', ' USD', 'ZZZ', '', 'XAU', 'XXX', 'XTS', 'XDR'])('refuses %j (unknown_currency)', (code) => {
    expect(() => currencyMinorUnits(code)).toThrow(expect.objectContaining({ kind: 'invalid_argument', code: 'unknown_currency', field: 'currency' }));
  });

  it('names the field it was given, and refuses a non-string', () => {
    const error = (() => {
      try {
        checkCurrency(42 as unknown as string, 'plan.currency');
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(PolarisError);
    expect(error).toMatchObject({ code: 'unknown_currency', field: 'plan.currency' });
  });
});
