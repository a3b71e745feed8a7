/**
 * Currencies: ISO 4217 codes with the minor units ISO gives them (docs/billing.md, "Money"),
 * from the `currency-codes` list.
 */

import { code as currencyByCode } from 'currency-codes';
import { PolarisError } from '../errors';

const CURRENCY_CODE = /^[A-Z]{3}$/;

/**
 * Codes ISO 4217 lists with minor unit "N.A." (precious metals, bond-market units, SDR, the test
 * and no-currency codes): `currency-codes` reports them as 0 digits, but nothing is invoiced in
 * them, so they are refused rather than treated like JPY.
 */
const NO_MINOR_UNIT = new Set(['XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XPD', 'XPT', 'XSU', 'XTS', 'XUA', 'XXX']);

function unknownCurrency(code: unknown, field: string): PolarisError {
  const shown = typeof code === 'string' ? JSON.stringify(code) : typeof code;
  return new PolarisError(
    'invalid_argument',
    'unknown_currency',
    `${field} ${shown} is not an ISO 4217 currency code (three capital letters, e.g. USD, EUR, JPY)`,
    field,
  );
}

/** The currency's minor digits: USD 2, JPY 0, KWD 3. */
export function currencyMinorUnits(code: string, field = 'currency'): number {
  if (typeof code !== 'string' || !CURRENCY_CODE.test(code) || NO_MINOR_UNIT.has(code)) throw unknownCurrency(code, field);
  const record = currencyByCode(code);
  if (!record || !Number.isInteger(record.digits)) throw unknownCurrency(code, field);
  return record.digits;
}

/** The code itself when it is a currency we invoice in; exact upper case, nothing is normalised. */
export function checkCurrency(code: string, field = 'currency'): string {
  currencyMinorUnits(code, field);
  return code;
}
