import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { PriceModel } from '@polaris/proto';
import { fakeSystem, ORG, Refusal } from '../test-support/fake-backends';

const VERSION = {
  id: 'pv1',
  planId: 'p1',
  planKey: 'pro',
  version: 1,
  currency: 'USD',
  status: 'draft',
  prices: [
    { key: 'base', name: 'Base', model: PriceModel.PRICE_MODEL_FLAT, meterSlug: '', amount: '49', unitPrice: '', tiers: [], packageSize: '', packagePrice: '', freeQuota: '' },
    {
      key: 'calls',
      name: 'Calls',
      model: PriceModel.PRICE_MODEL_GRADUATED,
      meterSlug: 'api_calls',
      amount: '',
      unitPrice: '',
      tiers: [
        { from: '0', upTo: '1000', unitPrice: '0.01', flatFee: '' },
        { from: '1000', upTo: '', unitPrice: '0.005', flatFee: '2' },
      ],
      packageSize: '',
      packagePrice: '',
      freeQuota: '100',
    },
  ],
  createdAt: new Date('2026-01-01T00:00:00Z'),
};

function plans() {
  return fakeSystem(['billing:write'], {
    'plans.createPlan': (req) => {
      const prices = req.prices as Array<{ unitPrice: string }>;
      if (prices[1]?.unitPrice === '-1') throw new Refusal(status.INVALID_ARGUMENT, 'negative_price', 'prices[1].unit_price must not be negative', 'prices[1].unit_price');
      return { id: 'p1', organizationId: ORG, key: req.key, name: req.name, description: '', status: 'active', versions: [VERSION], createdAt: new Date(0), updatedAt: new Date(0) };
    },
    'plans.publishPlanVersion': (req) => {
      if (req.planKey !== 'pro') throw new Refusal(status.NOT_FOUND, 'plan_not_found', 'no plan with key "x"', 'plan_key');
      return { ...VERSION, status: 'published', publishedAt: new Date('2026-01-02T00:00:00Z') };
    },
  });
}

describe('plans', () => {
  it('createPlan: prices go as the Plans service takes them ("" = not given) and come back as decimal text and enums', async () => {
    const { post, requests } = plans();
    const res = await post(`mutation {
      createPlan(input: { key: "pro", name: "Pro", currency: "USD", prices: [
        { key: "base", model: FLAT, amount: "49" },
        { key: "calls", model: GRADUATED, meterSlug: "api_calls", freeQuota: 100, tiers: [{ upTo: 1000, unitPrice: "0.01" }, { unitPrice: 0.005, flatFee: 2 }] }
      ] }) { key status versions { version status prices { key model amount meterSlug freeQuota tiers { from upTo unitPrice flatFee } } } }
    }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.createPlan).toEqual({
      key: 'pro',
      status: 'ACTIVE',
      versions: [
        {
          version: 1,
          status: 'DRAFT',
          prices: [
            { key: 'base', model: 'FLAT', amount: '49', meterSlug: null, freeQuota: '0', tiers: [] },
            {
              key: 'calls',
              model: 'GRADUATED',
              amount: null,
              meterSlug: 'api_calls',
              freeQuota: '100',
              tiers: [
                { from: '0', upTo: '1000', unitPrice: '0.01', flatFee: '0' },
                { from: '1000', upTo: null, unitPrice: '0.005', flatFee: '2' },
              ],
            },
          ],
        },
      ],
    });
    const [sent] = requests.get('plans.createPlan') ?? [];
    expect(sent?.prices).toEqual([
      { key: 'base', name: '', model: PriceModel.PRICE_MODEL_FLAT, meterSlug: '', amount: '49', unitPrice: '', tiers: [], packageSize: '', packagePrice: '', freeQuota: '' },
      {
        key: 'calls',
        name: '',
        model: PriceModel.PRICE_MODEL_GRADUATED,
        meterSlug: 'api_calls',
        amount: '',
        unitPrice: '',
        tiers: [
          { from: '', upTo: '1000', unitPrice: '0.01', flatFee: '' },
          { from: '', upTo: '', unitPrice: '0.005', flatFee: '2' },
        ],
        packageSize: '',
        packagePrice: '',
        freeQuota: '100',
      },
    ]);
  });

  it("a price's refusal names the argument path the caller wrote", async () => {
    const { post } = plans();
    const res = await post('mutation { createPlan(input: { key: "pro", name: "Pro", currency: "USD", prices: [{ key: "a", model: FLAT, amount: 1 }, { key: "b", model: PER_UNIT, meterSlug: "m", unitPrice: "-1" }] }) { id } }');
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'negative_price', field: 'input.prices[1].unitPrice' });
  });

  it('publishPlanVersion: an unknown plan is NOT_FOUND naming planKey', async () => {
    const { post } = plans();
    expect((await post('mutation { publishPlanVersion(planKey: "pro", version: 1) { status publishedAt } }')).body.data).toEqual({
      publishPlanVersion: { status: 'PUBLISHED', publishedAt: '2026-01-02T00:00:00.000Z' },
    });
    const res = await post('mutation { publishPlanVersion(planKey: "x", version: 1) { status } }');
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'plan_not_found', field: 'planKey' });
  });
});
