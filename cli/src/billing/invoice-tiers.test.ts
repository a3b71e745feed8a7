import type { InvoiceLineView } from '@polaris/cli/billing';
import { describe, expect, it } from 'vitest';
import { tierBreakdown } from './invoice-tiers';

const line = (over: Partial<InvoiceLineView>): InvoiceLineView => ({
  lineKey: 'k',
  kind: 'usage',
  description: 'd',
  priceKey: 'k',
  meterSlug: null,
  usagePeriodStart: '2026-10-27T16:32:00.000Z',
  usagePeriodEnd: '2026-11-27T16:32:00.000Z',
  quantity: null,
  billableQuantity: null,
  unitPrice: null,
  amount: '0.00',
  periodQuantity: null,
  tiers: [],
  ...over,
});

describe('tierBreakdown', () => {
  it('shows each tier of a tiered line with its exact piece, and skips the other lines', () => {
    const tokens = line({
      priceKey: 'tokens',
      meterSlug: 'tokens',
      quantity: '48000',
      billableQuantity: '48000',
      amount: '18.60',
      tiers: [
        { tier: 1, from: '0', upTo: '10000', quantity: '10000', unitPrice: '0', flatFee: '0', amount: '0' },
        { tier: 2, from: '10000', upTo: '40000', quantity: '30000', unitPrice: '0.0005', flatFee: '0', amount: '15' },
        { tier: 3, from: '40000', upTo: null, quantity: '8000', unitPrice: '0.0002', flatFee: '2', amount: '3.6' },
      ],
    });
    expect(tierBreakdown({ currency: 'USD', lines: [line({ priceKey: 'platform', amount: '49.00' }), tokens] })).toEqual([
      '  tokens: 48000 of tokens → 18.60 USD',
      '    tier 1  (0, 10000]      10000  × 0           = 0',
      '    tier 2  (10000, 40000]  30000  × 0.0005      = 15',
      '    tier 3  (40000, ∞)       8000  × 0.0002 + 2  = 3.6',
    ]);
  });

  it('is empty for an invoice without tiered lines', () => {
    expect(tierBreakdown({ currency: 'USD', lines: [line({})] })).toEqual([]);
    expect(tierBreakdown({ currency: 'USD' })).toEqual([]);
  });
});
