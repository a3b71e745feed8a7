import { describe, expect, it } from 'vitest';
import { checkPrices } from '@polaris/shared/billing';
import { BillingAnchor, PriceModel, type Price } from '@polaris/proto';
import { anchorFromProto, anchorToProto, priceFromProto, priceToProto } from './billing-proto';

const empty: Price = {
  key: '',
  name: '',
  model: PriceModel.PRICE_MODEL_UNSPECIFIED,
  meterSlug: '',
  amount: '',
  unitPrice: '',
  tiers: [],
  packageSize: '',
  packagePrice: '',
  freeQuota: '',
};

describe('prices between proto and the repositories', () => {
  it('round-trips every model through checkPrices, decimals as text', () => {
    const prices: Price[] = [
      { ...empty, key: 'base', name: 'Base', model: PriceModel.PRICE_MODEL_FLAT, amount: '49', freeQuota: '0' },
      { ...empty, key: 'api', name: 'api', model: PriceModel.PRICE_MODEL_PER_UNIT, meterSlug: 'calls', unitPrice: '0.0001', freeQuota: '1000' },
      {
        ...empty,
        key: 'tiers',
        name: 'tiers',
        model: PriceModel.PRICE_MODEL_GRADUATED,
        meterSlug: 'calls',
        freeQuota: '0',
        tiers: [
          { from: '0', upTo: '10', unitPrice: '1', flatFee: '0' },
          { from: '10', upTo: '', unitPrice: '0.5', flatFee: '2' },
        ],
      },
      { ...empty, key: 'vol', name: 'vol', model: PriceModel.PRICE_MODEL_VOLUME, meterSlug: 'calls', freeQuota: '0', tiers: [{ from: '0', upTo: '', unitPrice: '1', flatFee: '0' }] },
      { ...empty, key: 'pack', name: 'pack', model: PriceModel.PRICE_MODEL_PACKAGE, meterSlug: 'calls', packageSize: '100', packagePrice: '5', freeQuota: '0' },
    ];
    expect(checkPrices(prices.map(priceFromProto)).map(priceToProto)).toEqual(prices);
  });

  it('leaves an unset or unknown model for checkPrices to refuse by its path', () => {
    for (const model of [PriceModel.PRICE_MODEL_UNSPECIFIED, 42 as PriceModel]) {
      expect(() => checkPrices([priceFromProto({ ...empty, key: 'x', model, amount: '1' })])).toThrow(expect.objectContaining({ field: 'prices[0].model' }));
    }
  });
});

describe('billing anchors', () => {
  it('maps unspecified to calendar, and refuses an unknown value naming the field', () => {
    expect(anchorFromProto(BillingAnchor.BILLING_ANCHOR_UNSPECIFIED)).toBe('calendar');
    expect(anchorFromProto(BillingAnchor.BILLING_ANCHOR_ANNIVERSARY)).toBe('anniversary');
    expect(anchorToProto('anniversary')).toBe(BillingAnchor.BILLING_ANCHOR_ANNIVERSARY);
    expect(() => anchorFromProto(7 as BillingAnchor)).toThrow(expect.objectContaining({ code: 'invalid_billing_anchor', field: 'billing_anchor' }));
  });
});
