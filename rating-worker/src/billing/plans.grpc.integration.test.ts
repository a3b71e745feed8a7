import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meters } from '@polaris/postgres';
import { PlansClient, PriceModel, type Price } from '@polaris/proto';
import { rejection, startBillingGrpc, type BillingGrpcHarness } from '../test-support/billing-grpc-harness';
import { plansService } from './plans.grpc';

// polaris.v1.Plans over a real server and a PostgreSQL database of its own.

const PERMISSION_DENIED = 7; // grpc status
let h: BillingGrpcHarness;
let gateway: PlansClient;

beforeAll(async () => {
  h = await startBillingGrpc((pool, unary) => [plansService(pool, unary)]);
  gateway = h.client(PlansClient);
  await meters.create(h.db.pool, { organizationId: h.orgA, slug: 'api_calls', definition: { eventType: 'api.call', aggregation: 'COUNT', dimensions: [] } });
});
afterAll(async () => h?.stop());

const price = (p: Partial<Price>): Price => ({
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
  ...p,
});
const base = price({ key: 'base', model: PriceModel.PRICE_MODEL_FLAT, amount: '49.00' });
const tiered = price({
  key: 'calls',
  model: PriceModel.PRICE_MODEL_VOLUME,
  meterSlug: 'api_calls',
  freeQuota: '100',
  tiers: [
    { from: '', upTo: '1000', unitPrice: '0.01', flatFee: '' },
    { from: '1000', upTo: '', unitPrice: '0.005', flatFee: '2' },
  ],
});

const createPlan = (organizationId: string, key: string, prices: Price[], currency = 'USD') =>
  h.call(gateway.createPlan.bind(gateway), { organizationId, key, name: '', description: '', currency, prices }, organizationId);

describe('Plans gRPC', () => {
  it('creates a plan with enum models and text decimals, edits, publishes and archives it', async () => {
    const plan = await createPlan(h.orgA, 'pro', [base, tiered]);
    expect(plan).toMatchObject({ organizationId: h.orgA, key: 'pro', name: 'pro', status: 'active' });
    expect(plan.versions).toHaveLength(1);
    expect(plan.versions[0]).toMatchObject({ version: 1, status: 'draft', currency: 'USD', planKey: 'pro' });
    expect(plan.versions[0]?.publishedAt).toBeUndefined();
    expect(plan.versions[0]?.prices).toEqual([
      { ...base, name: 'base', amount: '49', freeQuota: '0' },
      {
        ...tiered,
        name: 'calls',
        tiers: [
          { from: '0', upTo: '1000', unitPrice: '0.01', flatFee: '0' },
          { from: '1000', upTo: '', unitPrice: '0.005', flatFee: '2' },
        ],
      },
    ]);
    expect(await h.call(gateway.getPlan.bind(gateway), { organizationId: h.orgA, key: 'pro' }, h.orgA)).toEqual(plan);

    const ref = { organizationId: h.orgA, planKey: 'pro', version: 1 };
    // Without replace_prices the prices stay, even though the list is empty.
    const inEuros = await h.call(gateway.updatePlanVersion.bind(gateway), { version: ref, currency: 'EUR', prices: [], replacePrices: false }, h.orgA);
    expect(inEuros).toMatchObject({ currency: 'EUR' });
    expect(inEuros.prices).toHaveLength(2);
    const free = await h.call(gateway.updatePlanVersion.bind(gateway), { version: ref, prices: [], replacePrices: true }, h.orgA);
    expect(free.prices).toEqual([]);
    const published = await h.call(gateway.publishPlanVersion.bind(gateway), ref, h.orgA);
    expect(published).toMatchObject({ status: 'published', publishedAt: expect.any(Date) });
    const v2 = await h.call(gateway.createPlanVersion.bind(gateway), { organizationId: h.orgA, planKey: 'pro', currency: 'EUR', prices: [base] }, h.orgA);
    expect(v2).toMatchObject({ version: 2, status: 'draft' });

    const listed = await h.call(gateway.listPlans.bind(gateway), { organizationId: h.orgA, includeArchived: false, pageSize: 0, pageToken: '' }, h.orgA);
    expect(listed.plans.map((p) => [p.key, p.versions.map((v) => v.version)])).toEqual([['pro', [2, 1]]]);
    const archived = await h.call(gateway.archivePlan.bind(gateway), { organizationId: h.orgA, key: 'pro' }, h.orgA);
    expect(archived.status).toBe('archived');
  });

  it('answers a bad price INVALID_ARGUMENT naming the field inside the prices', async () => {
    const gap = price({ ...tiered, tiers: [{ from: '', upTo: '1000', unitPrice: '1', flatFee: '' }, { from: '1500', upTo: '', unitPrice: '1', flatFee: '' }] });
    const cases: Array<[Price[], object]> = [
      [[base, gap], { kind: 'invalid_argument', code: 'tier_gap', field: 'prices[1].tiers[1].from' }],
      [[price({ ...base, amount: '-5' })], { kind: 'invalid_argument', code: 'negative_price', field: 'prices[0].amount' }],
      [[price({ ...base, model: PriceModel.PRICE_MODEL_UNSPECIFIED })], { kind: 'invalid_argument', field: 'prices[0].model' }],
      [[price({ ...base, model: 42 as PriceModel })], { kind: 'invalid_argument', field: 'prices[0].model' }],
      [[base, price({ ...tiered, meterSlug: 'no_such_meter' })], { kind: 'invalid_argument', code: 'unknown_meter', field: 'prices[1].meter_slug' }],
    ];
    for (const [prices, expected] of cases) {
      expect(await rejection(createPlan(h.orgA, 'refused', prices)), JSON.stringify(prices)).toMatchObject(expected);
    }
    expect(await rejection(createPlan(h.orgA, 'refused', [base], 'usd'))).toMatchObject({ kind: 'invalid_argument', code: 'unknown_currency', field: 'currency' });
    expect(await rejection(h.call(gateway.getPlan.bind(gateway), { organizationId: h.orgA, key: 'refused' }, h.orgA))).toMatchObject({ kind: 'not_found' });

    await createPlan(h.orgA, 'frozen', [base]);
    const ref = { organizationId: h.orgA, planKey: 'frozen', version: 1 };
    await h.call(gateway.publishPlanVersion.bind(gateway), ref, h.orgA);
    expect(await rejection(h.call(gateway.updatePlanVersion.bind(gateway), { version: ref, prices: [], replacePrices: true }, h.orgA))).toMatchObject({
      kind: 'failed_precondition',
      code: 'plan_version_published',
    });
  });

  it("finds nothing of another organization's, and refuses a call acting for another organization", async () => {
    await createPlan(h.orgA, 'private', [base]);
    expect(await rejection(h.call(gateway.getPlan.bind(gateway), { organizationId: h.orgB, key: 'private' }, h.orgB))).toMatchObject({
      kind: 'not_found',
      code: 'plan_not_found',
    });
    const denied = { grpcCode: PERMISSION_DENIED, code: 'organization_mismatch', field: 'organization_id' };
    const ownerRef = { organizationId: h.orgA, planKey: 'private', version: 1 };
    expect(await h.outcome(PlansClient, 'getPlan', { organizationId: h.orgA, key: 'private' }, { actingFor: h.orgB })).toEqual(denied);
    expect(await h.outcome(PlansClient, 'publishPlanVersion', ownerRef, { actingFor: h.orgB })).toEqual(denied);
    expect(await h.outcome(PlansClient, 'updatePlanVersion', { version: ownerRef, prices: [], replacePrices: true }, { actingFor: h.orgB })).toEqual(denied);
    expect(await h.outcome(PlansClient, 'getPlan', { organizationId: h.orgA, key: 'private' }, { caller: 'operator', actingFor: h.orgA })).toBe('ok');
    const plan = await h.call(gateway.getPlan.bind(gateway), { organizationId: h.orgA, key: 'private' }, h.orgA);
    expect(plan.versions.map((v) => [v.status, v.prices.length])).toEqual([['draft', 1]]);
  });
});
