import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addMoney, ratePrice, roundMoney, type Price } from '@polaris/shared/billing';
import { adjustmentKey, periodLabel, rateInvoice, type LatePeriod, type MeteredQuantity, type RateInvoiceInput } from './rate-invoice';

const platform: Price = { key: 'platform', name: 'Platform', model: 'FLAT', amount: '49', freeQuota: '0' };
const calls: Price = { key: 'api_calls', name: 'api calls', model: 'PER_UNIT', meterSlug: 'api_calls', unitPrice: '0.002', freeQuota: '1000' };
const tokens: Price = {
  key: 'tokens',
  name: 'Tokens',
  model: 'GRADUATED',
  meterSlug: 'tokens',
  tiers: [
    { from: '0', upTo: '1000', unitPrice: '0.01', flatFee: '0' },
    { from: '1000', unitPrice: '0.005', flatFee: '2' },
  ],
  freeQuota: '0',
};

const OCT = { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-11-01T00:00:00Z') };
const NOV = { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-12-01T00:00:00Z') };
const q = (entries: Record<string, string>): Map<string, MeteredQuantity> =>
  new Map(Object.entries(entries).map(([key, quantity]) => [key, { quantity, meterVersionId: '7' }]));

const november = (overrides: Partial<RateInvoiceInput> = {}): RateInvoiceInput => ({
  currency: 'USD',
  timeZone: 'UTC',
  usagePeriod: NOV,
  prices: [platform, calls, tokens],
  quantities: q({ api_calls: '1500', tokens: '1500' }),
  late: [],
  ...overrides,
});

const lateOctober = (now: Record<string, string>, billed: Record<string, { amount: string; periodQuantity?: string }>): LatePeriod => ({
  period: OCT,
  currency: 'USD',
  prices: [platform, calls, tokens],
  billed: new Map(Object.entries(billed)),
  quantities: q(now),
});

describe('rateInvoice', () => {
  it('rates each price of the version in order, and the total is the sum of the rounded lines', () => {
    const rated = rateInvoice(november());
    expect(rated.lines.map((l) => [l.position, l.lineKey, l.kind, l.quantity, l.billableQuantity, l.amount, l.periodQuantity])).toEqual([
      [0, 'platform', 'flat', '1', '1', '49.00', undefined],
      [1, 'api_calls', 'usage', '1500', '500', '1.00', '1500'],
      [2, 'tokens', 'usage', '1500', '1500', '14.50', '1500'],
    ]);
    expect(rated.lines[2]?.tiers.map((t) => t.amount)).toEqual(['10', '4.5']);
    expect(rated.lines[1]).toMatchObject({ meterSlug: 'api_calls', meterVersionId: '7', unitPrice: '0.002', usagePeriodStart: NOV.start, usagePeriodEnd: NOV.end });
    expect(rated).toMatchObject({ subtotal: '64.50', total: '64.50' });
    expect(rated.linesHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('prints amounts with the currency digits', () => {
    const rated = rateInvoice(november({ currency: 'JPY', prices: [{ ...platform, amount: '1200.5' }], quantities: new Map() }));
    expect(rated).toMatchObject({ subtotal: '1200', total: '1200' });
  });

  it('never bills a missing quantity as 0', () => {
    expect(() => rateInvoice(november({ quantities: q({ api_calls: '1' }) }))).toThrow(/no quantity for price tokens/);
  });

  it('gives byte-identical lines for the same inputs, however the late periods come and the quantities are spelled', () => {
    const late = lateOctober({ api_calls: '1200', tokens: '900' }, { api_calls: { amount: '0.20', periodQuantity: '1100' }, tokens: { amount: '9.00', periodQuantity: '900' } });
    const earlier: LatePeriod = { ...late, period: { start: new Date('2026-09-01T00:00:00Z'), end: OCT.start }, quantities: q({ api_calls: '0', tokens: '0' }), billed: new Map() };
    const a = rateInvoice(november({ late: [late, earlier] }));
    const b = rateInvoice(november({ late: [earlier, late], quantities: q({ api_calls: '1500.000', tokens: '1500.0' }) }));
    expect(b.linesHash).toBe(a.linesHash);
    expect(JSON.stringify(b.lines)).toBe(JSON.stringify(a.lines));
  });
});

describe('adjustments for late usage', () => {
  it('bills round(rate(Q_now)) − Σ billed with the late quantity, after the prices', () => {
    const rated = rateInvoice(november({ late: [lateOctober({ api_calls: '1200', tokens: '900' }, { api_calls: { amount: '0.20', periodQuantity: '1100' }, tokens: { amount: '9.00', periodQuantity: '900' } })] }));
    const adjustment = rated.lines[3];
    expect(rated.lines).toHaveLength(4);
    expect(adjustment).toMatchObject({
      position: 3,
      lineKey: adjustmentKey(OCT.start, 'api_calls'),
      kind: 'adjustment',
      description: 'api calls — late usage for 2026-10',
      priceKey: 'api_calls',
      meterSlug: 'api_calls',
      usagePeriodStart: OCT.start,
      usagePeriodEnd: OCT.end,
      quantity: '100',
      amount: '0.20',
      periodQuantity: '1200',
    });
    expect(adjustment?.lineKey).toBe('adjustment:2026-10-01T00:00:00.000Z:api_calls');
    expect(rated.total).toBe('64.70');
  });

  it('orders adjustments by period then price key, and credits usage that fell', () => {
    const september: LatePeriod = {
      ...lateOctober({ api_calls: '1000', tokens: '10' }, { api_calls: { amount: '0.00', periodQuantity: '1000' }, tokens: { amount: '0.20', periodQuantity: '20' } }),
      period: { start: new Date('2026-09-01T00:00:00Z'), end: OCT.start },
    };
    const october = lateOctober({ api_calls: '2000', tokens: '1' }, { api_calls: { amount: '1.00', periodQuantity: '1500' }, tokens: { amount: '0.01', periodQuantity: '1' } });
    const rated = rateInvoice(november({ late: [october, september] }));
    expect(rated.lines.slice(3).map((l) => [l.lineKey, l.quantity, l.amount])).toEqual([
      ['adjustment:2026-09-01T00:00:00.000Z:tokens', '-10', '-0.10'],
      ['adjustment:2026-10-01T00:00:00.000Z:api_calls', '500', '1.00'],
    ]);
  });

  it('skips a price when neither the amount nor the quantity moved, but shows late usage inside the free quota', () => {
    const unchanged = rateInvoice(november({ late: [lateOctober({ api_calls: '1100', tokens: '900' }, { api_calls: { amount: '0.20', periodQuantity: '1100' }, tokens: { amount: '9.00', periodQuantity: '900' } })] }));
    expect(unchanged.lines).toHaveLength(3);
    const free = rateInvoice(november({ late: [lateOctober({ api_calls: '900', tokens: '900' }, { api_calls: { amount: '0.00', periodQuantity: '800' }, tokens: { amount: '9.00', periodQuantity: '900' } })] }));
    expect(free.lines.slice(3).map((l) => [l.lineKey, l.quantity, l.amount])).toEqual([['adjustment:2026-10-01T00:00:00.000Z:api_calls', '100', '0.00']]);
  });

  it('rates late usage with the period’s own prices, and refuses to mix currencies', () => {
    const oldCalls = { ...calls, unitPrice: '0.01', freeQuota: '0' };
    const rated = rateInvoice(november({ late: [{ ...lateOctober({ api_calls: '10' }, { api_calls: { amount: '0.00', periodQuantity: '0' } }), prices: [oldCalls] }] }));
    expect(rated.lines.at(-1)).toMatchObject({ quantity: '10', amount: '0.10', unitPrice: '0.01' });
    expect(() => rateInvoice(november({ late: [{ ...lateOctober({ api_calls: '10', tokens: '1' }, {}), currency: 'EUR' }] }))).toThrow(/billed in EUR/);
  });

  it('makes the amounts billed for a period add up to round(rate(final usage)), whatever the late readings', () => {
    const usage = fc.array(fc.integer({ min: 0, max: 5_000_000 }).map((n) => (n / 1000).toString()), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(usage, (readings) => {
        let billed = { amount: '0.00', periodQuantity: '0' };
        const amounts: string[] = [];
        for (const reading of readings) {
          const rated = rateInvoice(november({ late: [{ ...lateOctober({ api_calls: reading, tokens: '0' }, { api_calls: billed, tokens: { amount: '0.00', periodQuantity: '0' } }) }] }));
          const line = rated.lines.find((l) => l.kind === 'adjustment' && l.priceKey === 'api_calls');
          if (line) {
            amounts.push(line.amount);
            billed = { amount: addMoney([billed.amount, line.amount], 2), periodQuantity: line.periodQuantity ?? '0' };
          }
        }
        const last = readings.at(-1) ?? '0';
        expect(addMoney(amounts, 2)).toBe(roundMoney(ratePrice(calls, last, 2).exactAmount, 2));
      }),
      { seed: 20261101, numRuns: 200 },
    );
  });
});

describe('periodLabel', () => {
  it('names a calendar month in the zone, and any other period by its first day', () => {
    expect(periodLabel(new Date('2026-10-01T04:00:00Z'), 'America/New_York')).toBe('2026-10');
    expect(periodLabel(new Date('2026-10-01T00:00:00Z'), 'America/New_York')).toBe('2026-09-30');
    expect(periodLabel(new Date('2026-10-15T09:30:00Z'), 'UTC')).toBe('2026-10-15');
  });
});
