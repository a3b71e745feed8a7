import { PolarisError } from '@polaris/shared/errors';
import { describe, expect, it } from 'vitest';
import { CliError } from '../errors';
import { billingCliError, parseAnchor, parseInstant, parseVersion, readPrices } from './billing-flags';

describe('readPrices', () => {
  it('reads a JSON array, keeping numbers as their exact text', () => {
    expect(readPrices('[{"key":"a","amount":0.10,"tiers":[{"up_to":12345678901234567890}]}]')).toEqual([{ key: 'a', amount: '0.10', tiers: [{ up_to: '12345678901234567890' }] }]);
  });

  it('refuses what is not a JSON array, saying so', () => {
    expect(() => readPrices('[{')).toThrow(/^--prices is not valid JSON: /);
    expect(() => readPrices('{"key":"a"}')).toThrow(/^--prices must be a JSON array of prices/);
    expect(() => readPrices('@/no/such/file.json')).toThrow(/^--prices: cannot read \/no\/such\/file\.json/);
  });
});

describe('flag parsing', () => {
  it('takes ISO instants and bare days, nothing else', () => {
    expect(parseInstant('2026-11-01T00:00:00Z', '--start')).toEqual(new Date('2026-11-01T00:00:00Z'));
    expect(parseInstant('2026-11-01', '--start')).toEqual(new Date('2026-11-01T00:00:00Z'));
    for (const bad of ['tomorrow', '1700000000', '2026-13-01T00:00:00Z']) expect(() => parseInstant(bad, '--start'), bad).toThrow(CliError);
  });

  it('takes version numbers, 0 only where it means the newest published', () => {
    expect(parseVersion('2', 'v')).toBe(2);
    expect(parseVersion('0', 'v', { zero: true })).toBe(0);
    for (const bad of ['0', '-1', '1.5', 'two', '']) expect(() => parseVersion(bad, 'v'), bad).toThrow(/v takes a version number/);
  });

  it('takes an anchor in any case', () => {
    expect(parseAnchor('Anniversary')).toBe('anniversary');
    expect(() => parseAnchor('weekly')).toThrow(/--anchor takes calendar or anniversary/);
  });
});

describe('billingCliError', () => {
  const flags = { currency: '--currency', prices: '--prices' };

  it('names the flag of a refused field, including a path into the prices', () => {
    const bad = new PolarisError('invalid_argument', 'tier_gap', 'prices[1].tiers[2].from must be 10', 'prices[1].tiers[2].from');
    expect(billingCliError(bad, flags)).toEqual(new CliError('prices[1].tiers[2].from must be 10 (--prices)'));
    expect(billingCliError(new PolarisError('failed_precondition', 'x', 'no', 'currency'), flags)).toEqual(new CliError('no'));
  });

  it('leaves internal errors as they are', () => {
    const internal = new PolarisError('internal', 'internal', 'boom');
    expect(billingCliError(internal, flags)).toBe(internal);
    const other = new Error('boom');
    expect(billingCliError(other, flags)).toBe(other);
  });
});
