import { describe, expect, it } from 'vitest';
import type { Price } from '@polaris/shared/billing';
import { includedQuantity, limitFor, percentOf, periodOf, pricesFor, type WatchedSubscription } from './threshold-terms';
import { thresholdPercent, thresholdQuantity, thresholdTerms } from './threshold-input';

const price = (meterSlug: string | undefined, freeQuota: string): Price => ({ key: `p${freeQuota}`, name: 'p', model: meterSlug ? 'PER_UNIT' : 'FLAT', ...(meterSlug ? { meterSlug, unitPrice: '1' } : { amount: '1' }), freeQuota });

describe('threshold terms', () => {
  it('multiplies a percentage exactly', () => {
    expect(percentOf('80', '1000')).toBe('800');
    expect(percentOf('33.3', '0.003')).toBe('0.000999');
    expect(percentOf('1000', '12345678901234567890.123456789')).toBe('123456789012345678901.23456789');
    expect(percentOf('0.1', '1')).toBe('0.001');
  });

  it("takes the smallest free quota of the meter's prices as the included quantity; none when 0 or unpriced", () => {
    expect(includedQuantity([price('calls', '500'), price('calls', '200'), price('tokens', '9')], 'calls')).toBe('200');
    expect(includedQuantity([price('calls', '0'), price('calls', '200')], 'calls')).toBeUndefined();
    expect(includedQuantity([price(undefined, '0')], 'calls')).toBeUndefined();
    expect(limitFor({ kind: 'percent', percent: '50', meterSlug: 'calls' }, [price('calls', '10')])).toBe('5');
    expect(limitFor({ kind: 'percent', percent: '50', meterSlug: 'calls' }, [])).toBeUndefined();
    expect(limitFor({ kind: 'absolute', quantity: '7', meterSlug: 'calls' }, [])).toBe('7');
  });

  it("follows the subscription's periods and phases, else calendar months in the customer's zone", () => {
    const sub: WatchedSubscription = {
      billingAnchor: 'anniversary',
      startAt: new Date('2026-01-10T00:00:00Z'),
      timeZone: 'UTC',
      phases: [
        { startsAt: new Date('2026-01-10T00:00:00Z'), prices: [price('calls', '1')] },
        { startsAt: new Date('2026-02-10T00:00:00Z'), prices: [price('calls', '2')] },
      ],
    };
    const feb = periodOf(new Date('2026-02-20T00:00:00Z'), 'Asia/Tokyo', sub);
    expect(feb).toEqual({ start: new Date('2026-02-10T00:00:00Z'), end: new Date('2026-03-10T00:00:00Z') });
    expect(includedQuantity(pricesFor(sub, feb), 'calls')).toBe('2');
    expect(periodOf(new Date('2026-02-20T00:00:00Z'), 'Asia/Tokyo')).toEqual({ start: new Date('2026-01-31T15:00:00Z'), end: new Date('2026-02-28T15:00:00Z') });
  });

  it('checks quantities and percentages, naming the field', () => {
    expect(thresholdQuantity(' 10.500 ')).toBe('10.5');
    expect(() => thresholdQuantity('0')).toThrow(expect.objectContaining({ field: 'quantity' }));
    expect(() => thresholdQuantity('abc')).toThrow(expect.objectContaining({ field: 'quantity' }));
    expect(thresholdPercent('1000')).toBe('1000');
    expect(() => thresholdPercent('1000.000001')).toThrow(expect.objectContaining({ field: 'percent' }));
    expect(() => thresholdPercent('-1')).toThrow(expect.objectContaining({ field: 'percent' }));
    expect(() => thresholdTerms({})).toThrow(expect.objectContaining({ field: 'quantity' }));
    expect(thresholdTerms({ quantity: '', percent: '5' })).toEqual({ kind: 'percent', percent: '5' });
  });
});
