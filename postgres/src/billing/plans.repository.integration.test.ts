import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizations, type Organization } from '../identity/organizations.repository';
import { meters } from '../meters/meters.repository';
import type { Pool } from '../pool';
import { throwawayPostgres, type ThrowawayPostgres } from '../testing/throwaway-database';
import { plans } from './plans.repository';

// Plans and their versions over a real PostgreSQL, each test in an organization of its own.

let db: ThrowawayPostgres;
let pool: Pool;

beforeAll(async () => {
  db = await throwawayPostgres();
  pool = db.pool;
});
afterAll(async () => db?.drop());

/** An organization with an active meter `api_calls` and an archived one `old_calls`. */
async function freshOrg(): Promise<Organization> {
  const slug = `test-${randomBytes(4).toString('hex')}`;
  const org = await organizations.create(pool, { name: slug, slug });
  const definition = { eventType: 'api.call', aggregation: 'COUNT', dimensions: [] };
  await meters.create(pool, { organizationId: org.id, slug: 'api_calls', definition });
  await meters.create(pool, { organizationId: org.id, slug: 'old_calls', definition });
  await meters.archive(pool, { organizationId: org.id, slug: 'old_calls' });
  return org;
}

async function refusal(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err,
  );
}

const counts = async (organizationId: string) => {
  const { rows } = await pool.query<{ plans: string; versions: string }>(
    `SELECT (SELECT count(*) FROM plans WHERE organization_id = $1) AS plans,
            (SELECT count(*) FROM plan_versions WHERE organization_id = $1) AS versions`,
    [organizationId],
  );
  return rows[0];
};

const base = { key: 'base', model: 'FLAT', amount: '49.00' };
const api = { key: 'api', model: 'PER_UNIT', meterSlug: 'api_calls', unitPrice: '0.0020', freeQuota: '1000' };
const graduated = {
  key: 'tiered',
  name: 'Tiered calls',
  model: 'GRADUATED',
  meter_slug: 'api_calls',
  tiers: [
    { up_to: '1000', unit_price: '0.01' },
    { unit_price: '0.005', flat_fee: '2' },
  ],
};

describe('creating a plan', () => {
  it('makes version 1, a draft holding the checked prices', async () => {
    const org = await freshOrg();
    const plan = await plans.create(pool, { organizationId: org.id, key: 'pro', name: 'Pro', description: 'for teams', currency: 'USD', prices: [base, api, graduated] });
    expect(plan).toMatchObject({ organizationId: org.id, key: 'pro', name: 'Pro', description: 'for teams', status: 'active' });
    expect(plan.versions).toHaveLength(1);
    expect(plan.versions[0]).toMatchObject({ planId: plan.id, planKey: 'pro', version: 1, currency: 'USD', status: 'draft' });
    expect(plan.versions[0]?.publishedAt).toBeUndefined();
    // Stored canonical, with the tier starts filled in; names default to the key.
    expect(plan.versions[0]?.prices).toEqual([
      { key: 'base', name: 'base', model: 'FLAT', amount: '49', freeQuota: '0' },
      { key: 'api', name: 'api', model: 'PER_UNIT', meterSlug: 'api_calls', unitPrice: '0.002', freeQuota: '1000' },
      {
        key: 'tiered',
        name: 'Tiered calls',
        model: 'GRADUATED',
        meterSlug: 'api_calls',
        freeQuota: '0',
        tiers: [
          { from: '0', upTo: '1000', unitPrice: '0.01', flatFee: '0' },
          { from: '1000', unitPrice: '0.005', flatFee: '2' },
        ],
      },
    ]);
    expect(await plans.get(pool, { organizationId: org.id, key: 'pro' })).toEqual(plan);
    expect(await plans.getVersionById(pool, org.id, plan.versions[0]?.id ?? '')).toEqual(plan.versions[0]);
  });

  it('refuses bad input naming the field (the path into the prices survives), and leaves nothing behind', async () => {
    const org = await freshOrg();
    await plans.create(pool, { organizationId: org.id, key: 'taken', currency: 'USD', prices: [] });
    const withTiers = (tiers: object[]) => [base, { ...graduated, tiers }];
    const cases: Array<[object, object]> = [
      [{ currency: 'XYZ' }, { kind: 'invalid_argument', code: 'unknown_currency', field: 'currency' }],
      [{ key: 'Pro-Plan' }, { kind: 'invalid_argument', code: 'invalid_plan_key', field: 'key' }],
      [{ prices: [{ ...base, amount: '-1' }] }, { kind: 'invalid_argument', code: 'negative_price', field: 'prices[0].amount' }],
      [{ prices: [base, { ...api, unitPrice: '-0.5' }] }, { code: 'negative_price', field: 'prices[1].unit_price' }],
      [{ prices: withTiers([{ up_to: '1000', unit_price: '1' }, { from: '1200', unit_price: '1' }]) }, { code: 'tier_gap', field: 'prices[1].tiers[1].from' }],
      [
        { prices: withTiers([{ up_to: '1000', unit_price: '1' }, { up_to: '2000', unit_price: '1' }, { from: '900', unit_price: '1' }]) },
        { code: 'tier_overlap', field: 'prices[1].tiers[2].from' },
      ],
      [{ prices: withTiers([{ up_to: '1000', unit_price: '1' }, { up_to: '2000', unit_price: '1' }]) }, { code: 'last_tier_bounded', field: 'prices[1].tiers[1].up_to' }],
      [{ prices: [base, { ...api, meterSlug: 'nope' }] }, { kind: 'invalid_argument', code: 'unknown_meter', field: 'prices[1].meter_slug' }],
      [{ prices: [{ ...api, meterSlug: 'old_calls' }] }, { code: 'unknown_meter', field: 'prices[0].meter_slug' }],
      [{ prices: [base, base] }, { code: 'duplicate_key', field: 'prices[1].key' }],
      [{ key: 'taken' }, { kind: 'already_exists', code: 'plan_exists', field: 'key' }],
      [{ organizationId: randomUUID() }, { kind: 'not_found', code: 'organization_not_found' }],
    ];
    for (const [change, expected] of cases) {
      const err = await refusal(plans.create(pool, { organizationId: org.id, key: 'fresh', currency: 'USD', prices: [base, api], ...change }));
      expect(err, JSON.stringify(change)).toMatchObject(expected);
    }
    expect(await counts(org.id)).toEqual({ plans: '1', versions: '1' });
  });

  it("refuses another organization's meter as unknown", async () => {
    const [mine, other] = [await freshOrg(), await freshOrg()];
    await meters.create(pool, { organizationId: other.id, slug: 'their_meter', definition: { eventType: 'x', aggregation: 'COUNT', dimensions: [] } });
    expect(await refusal(plans.create(pool, { organizationId: mine.id, key: 'p', currency: 'USD', prices: [{ ...api, meterSlug: 'their_meter' }] }))).toMatchObject({
      code: 'unknown_meter',
      field: 'prices[0].meter_slug',
    });
  });
});

describe('plan versions', () => {
  it('edits drafts, publishes them, and never changes a published one', async () => {
    const org = await freshOrg();
    await plans.create(pool, { organizationId: org.id, key: 'pro', currency: 'USD', prices: [base] });
    const edited = await plans.updateVersion(pool, { organizationId: org.id, planKey: 'pro', version: 1, prices: [base, api] });
    expect(edited.prices.map((p) => p.key)).toEqual(['base', 'api']);
    const inEuros = await plans.updateVersion(pool, { organizationId: org.id, planKey: 'pro', version: 1, currency: 'EUR' });
    expect(inEuros).toMatchObject({ currency: 'EUR', status: 'draft' });
    expect(inEuros.prices).toEqual(edited.prices);

    const published = await plans.publishVersion(pool, { organizationId: org.id, planKey: 'pro', version: 1 });
    expect(published).toMatchObject({ status: 'published', publishedAt: expect.any(Date) });
    expect(await plans.publishVersion(pool, { organizationId: org.id, planKey: 'pro', version: 1 })).toEqual(published);
    expect(await refusal(plans.updateVersion(pool, { organizationId: org.id, planKey: 'pro', version: 1, prices: [base] }))).toMatchObject({
      kind: 'failed_precondition',
      code: 'plan_version_published',
      field: 'version',
    });

    const v2 = await plans.createVersion(pool, { organizationId: org.id, planKey: 'pro', currency: 'EUR', prices: [{ ...base, amount: '59' }] });
    expect(v2).toMatchObject({ version: 2, status: 'draft', currency: 'EUR', planKey: 'pro' });
    const v3 = await plans.createVersion(pool, { organizationId: org.id, planKey: 'pro', currency: 'EUR', prices: [] });
    expect(v3.version).toBe(3);
    const plan = await plans.get(pool, { organizationId: org.id, key: 'pro' });
    expect(plan.versions.map((v) => [v.version, v.status])).toEqual([
      [3, 'draft'],
      [2, 'draft'],
      [1, 'published'],
    ]);
  });

  it('refuses bad versions naming the field', async () => {
    const org = await freshOrg();
    await plans.create(pool, { organizationId: org.id, key: 'pro', currency: 'USD', prices: [base] });
    const ref = { organizationId: org.id, planKey: 'pro' };
    expect(await refusal(plans.createVersion(pool, { ...ref, currency: 'US', prices: [] }))).toMatchObject({ code: 'unknown_currency', field: 'currency' });
    expect(await refusal(plans.createVersion(pool, { ...ref, currency: 'USD', prices: [{ ...base, amount: 'ten' }] }))).toMatchObject({
      code: 'invalid_decimal',
      field: 'prices[0].amount',
    });
    expect(await refusal(plans.createVersion(pool, { ...ref, planKey: 'nope', currency: 'USD', prices: [] }))).toMatchObject({ code: 'plan_not_found', field: 'plan_key' });
    expect(await refusal(plans.updateVersion(pool, { ...ref, version: 0 }))).toMatchObject({ code: 'invalid_plan_version', field: 'version' });
    expect(await refusal(plans.updateVersion(pool, { ...ref, version: 7 }))).toMatchObject({ kind: 'not_found', code: 'plan_version_not_found', field: 'version' });
    expect(await refusal(plans.updateVersion(pool, { ...ref, version: 1, prices: [{ ...api, meterSlug: 'old_calls' }] }))).toMatchObject({
      code: 'unknown_meter',
      field: 'prices[0].meter_slug',
    });
  });

  it('checks the meters again when a draft is published', async () => {
    const org = await freshOrg();
    await plans.create(pool, { organizationId: org.id, key: 'pro', currency: 'USD', prices: [base, api] });
    await meters.archive(pool, { organizationId: org.id, slug: 'api_calls' });
    expect(await refusal(plans.publishVersion(pool, { organizationId: org.id, planKey: 'pro', version: 1 }))).toMatchObject({
      code: 'unknown_meter',
      field: 'prices[1].meter_slug',
    });
    expect((await plans.get(pool, { organizationId: org.id, key: 'pro' })).versions[0]?.status).toBe('draft');
  });
});

describe('listing and archiving plans', () => {
  it('pages by key; an archived plan is hidden unless asked, and takes no new versions', async () => {
    const org = await freshOrg();
    for (const key of ['gamma', 'alpha', 'beta']) await plans.create(pool, { organizationId: org.id, key, currency: 'USD', prices: [base] });
    const archived = await plans.archive(pool, { organizationId: org.id, key: 'beta' });
    expect(archived.status).toBe('archived');
    expect(await plans.archive(pool, { organizationId: org.id, key: 'beta' })).toEqual(archived);

    const first = await plans.list(pool, { organizationId: org.id, pageSize: 1 });
    expect(first.plans.map((p) => [p.key, p.versions.length])).toEqual([['alpha', 1]]);
    const rest = await plans.list(pool, { organizationId: org.id, pageToken: first.nextPageToken });
    expect(rest.plans.map((p) => p.key)).toEqual(['gamma']);
    expect((await plans.list(pool, { organizationId: org.id, includeArchived: true })).plans.map((p) => p.key)).toEqual(['alpha', 'beta', 'gamma']);
    expect(await refusal(plans.createVersion(pool, { organizationId: org.id, planKey: 'beta', currency: 'USD', prices: [] }))).toMatchObject({
      kind: 'failed_precondition',
      code: 'plan_archived',
    });
  });
});

describe('tenancy', () => {
  it("finds nothing of another organization's, by key or by version id, and changes nothing there", async () => {
    const [owner, other] = [await freshOrg(), await freshOrg()];
    const theirs = await plans.create(pool, { organizationId: owner.id, key: 'private', currency: 'USD', prices: [base] });
    const notFound = { kind: 'not_found', code: 'plan_not_found' };
    expect(await refusal(plans.get(pool, { organizationId: other.id, key: 'private' }))).toMatchObject(notFound);
    expect(await refusal(plans.archive(pool, { organizationId: other.id, key: 'private' }))).toMatchObject(notFound);
    expect(await refusal(plans.createVersion(pool, { organizationId: other.id, planKey: 'private', currency: 'USD', prices: [] }))).toMatchObject(notFound);
    expect(await refusal(plans.updateVersion(pool, { organizationId: other.id, planKey: 'private', version: 1, prices: [] }))).toMatchObject(notFound);
    expect(await refusal(plans.publishVersion(pool, { organizationId: other.id, planKey: 'private', version: 1 }))).toMatchObject(notFound);
    expect(await refusal(plans.getVersionById(pool, other.id, theirs.versions[0]?.id ?? ''))).toMatchObject({ kind: 'not_found', code: 'plan_version_not_found' });
    expect((await plans.list(pool, { organizationId: other.id, includeArchived: true })).plans).toEqual([]);
    expect(await plans.get(pool, { organizationId: owner.id, key: 'private' })).toEqual(theirs);
  });
});
