import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizations, type Organization } from '../identity/organizations.repository';
import type { Pool } from '../pool';
import { throwawayPostgres, type ThrowawayPostgres } from '../testing/throwaway-database';
import { customers } from './customers.repository';
import { plans } from './plans.repository';
import { currentPeriod } from './subscription-periods';
import { subscriptions } from './subscriptions.repository';

// Subscriptions over a real PostgreSQL, each test in an organization of its own, with the clock
// passed in so that period boundaries are known.

let db: ThrowawayPostgres;
let pool: Pool;

beforeAll(async () => {
  db = await throwawayPostgres();
  pool = db.pool;
});
afterAll(async () => db?.drop());

const flat = (amount: string) => [{ key: 'base', model: 'FLAT', amount }];
const at = (iso: string) => new Date(iso);

/** An org with customer `c` (USD, New York unless said), plan `basic` v1 published, v2 draft, and plan `euro` v1 published in EUR. */
async function freshOrg(timeZone = 'America/New_York'): Promise<Organization> {
  const slug = `test-${randomBytes(4).toString('hex')}`;
  const org = await organizations.create(pool, { name: slug, slug });
  await customers.create(pool, { organizationId: org.id, externalId: 'c', name: 'C', currency: 'USD', timeZone });
  await plans.create(pool, { organizationId: org.id, key: 'basic', currency: 'USD', prices: flat('10') });
  await plans.publishVersion(pool, { organizationId: org.id, planKey: 'basic', version: 1 });
  await plans.createVersion(pool, { organizationId: org.id, planKey: 'basic', currency: 'USD', prices: flat('12') });
  await plans.create(pool, { organizationId: org.id, key: 'euro', currency: 'EUR', prices: flat('9') });
  await plans.publishVersion(pool, { organizationId: org.id, planKey: 'euro', version: 1 });
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

const subscriptionCount = async (organizationId: string) =>
  (await pool.query<{ n: string }>('SELECT count(*) AS n FROM subscriptions WHERE organization_id = $1', [organizationId])).rows[0]?.n;

describe('creating a subscription', () => {
  it('starts at the minute given, in the customer’s zone, billing its first period to the next 1st', async () => {
    const org = await freshOrg();
    const s = await subscriptions.create(pool, {
      organizationId: org.id,
      customer: { externalId: 'c' },
      planKey: 'basic',
      startAt: at('2026-11-10T15:04:59.999Z'),
    });
    const basic = await plans.get(pool, { organizationId: org.id, key: 'basic' });
    expect(s).toMatchObject({
      organizationId: org.id,
      customerExternalId: 'c',
      status: 'active',
      billingAnchor: 'calendar',
      startAt: at('2026-11-10T15:04:00Z'),
      timeZone: 'America/New_York',
      billedThrough: at('2026-11-10T15:04:00Z'),
      // 00:00 on December 1st in New York (EST).
      nextPeriodEnd: at('2026-12-01T05:00:00Z'),
      phases: [{ planKey: 'basic', planVersion: 1, planVersionId: basic.versions[1]?.id, startsAt: at('2026-11-10T15:04:00Z') }],
    });
    expect(s.cancelAt).toBeUndefined();
    expect(await subscriptions.get(pool, { organizationId: org.id, subscriptionId: s.id })).toEqual(s);
    expect(currentPeriod(s, at('2027-01-15T00:00:00Z'))).toEqual({ start: at('2027-01-01T05:00:00Z'), end: at('2027-02-01T05:00:00Z') });
  });

  it('takes an anniversary anchor and a version number, and starts now by default', async () => {
    const org = await freshOrg('UTC');
    await plans.publishVersion(pool, { organizationId: org.id, planKey: 'basic', version: 2 });
    const s = await subscriptions.create(pool, {
      organizationId: org.id,
      customer: { externalId: 'c' },
      planKey: 'basic',
      planVersion: 1,
      billingAnchor: 'anniversary',
      now: at('2027-01-31T10:30:45Z'),
    });
    expect(s).toMatchObject({ startAt: at('2027-01-31T10:30:00Z'), nextPeriodEnd: at('2027-02-28T10:30:00Z'), phases: [{ planVersion: 1 }] });
  });

  it('takes the newest published version when none is named', async () => {
    const org = await freshOrg();
    await plans.publishVersion(pool, { organizationId: org.id, planKey: 'basic', version: 2 });
    await plans.createVersion(pool, { organizationId: org.id, planKey: 'basic', currency: 'USD', prices: flat('99') });
    const s = await subscriptions.create(pool, { organizationId: org.id, customer: { externalId: 'c' }, planKey: 'basic', planVersion: 0 });
    expect(s.phases.map((p) => p.planVersion)).toEqual([2]);
  });

  it('refuses a draft, a currency mismatch, a second subscription, an archived customer or plan, naming why', async () => {
    const org = await freshOrg();
    const base = { organizationId: org.id, customer: { externalId: 'c' }, planKey: 'basic' };
    const cases: Array<[object, object]> = [
      [{ planVersion: 2 }, { kind: 'failed_precondition', code: 'plan_version_not_published', field: 'plan_version' }],
      [{ planVersion: 9 }, { kind: 'not_found', code: 'plan_version_not_found', field: 'plan_version' }],
      [{ planKey: 'euro' }, { kind: 'failed_precondition', code: 'currency_mismatch', message: expect.stringMatching(/priced in EUR.*billed in USD/) }],
      [{ planKey: 'nope' }, { kind: 'not_found', code: 'plan_not_found', field: 'plan_key' }],
      [{ customer: { externalId: 'nobody' } }, { kind: 'not_found', code: 'customer_not_found', field: 'external_id' }],
      [{ billingAnchor: 'weekly' }, { kind: 'invalid_argument', code: 'invalid_billing_anchor', field: 'billing_anchor' }],
      [{ startAt: new Date(Number.NaN) }, { kind: 'invalid_argument', field: 'start_at' }],
    ];
    for (const [change, expected] of cases) {
      expect(await refusal(subscriptions.create(pool, { ...base, ...change })), JSON.stringify(change)).toMatchObject(expected);
    }
    expect(await subscriptionCount(org.id)).toBe('0');

    // A plan with only drafts has no version to take.
    await plans.create(pool, { organizationId: org.id, key: 'drafty', currency: 'USD', prices: flat('1') });
    expect(await refusal(subscriptions.create(pool, { ...base, planKey: 'drafty' }))).toMatchObject({ code: 'plan_version_not_published', field: 'plan_version' });

    await subscriptions.create(pool, base);
    expect(await refusal(subscriptions.create(pool, base))).toMatchObject({ kind: 'failed_precondition', code: 'customer_already_subscribed' });

    await customers.create(pool, { organizationId: org.id, externalId: 'gone', name: 'G', currency: 'USD' });
    await customers.archive(pool, { organizationId: org.id, externalId: 'gone' });
    expect(await refusal(subscriptions.create(pool, { ...base, customer: { externalId: 'gone' } }))).toMatchObject({ code: 'customer_archived' });
    await customers.create(pool, { organizationId: org.id, externalId: 'd', name: 'D', currency: 'USD' });
    await plans.archive(pool, { organizationId: org.id, key: 'basic' });
    expect(await refusal(subscriptions.create(pool, { ...base, customer: { externalId: 'd' } }))).toMatchObject({ code: 'plan_archived', field: 'plan_key' });
    expect(await subscriptionCount(org.id)).toBe('1');
  });
});

describe('changing the plan', () => {
  const november = { startAt: at('2026-11-01T00:00:00Z') };
  const midNovember = at('2026-11-15T12:00:00Z');
  const december = at('2026-12-01T00:00:00Z');

  it('adds a phase at the next period boundary; a second change there replaces it; going back drops it', async () => {
    const org = await freshOrg('UTC');
    await plans.publishVersion(pool, { organizationId: org.id, planKey: 'basic', version: 2 });
    const s = await subscriptions.create(pool, { organizationId: org.id, customer: { externalId: 'c' }, planKey: 'basic', planVersion: 1, ...november });
    const ref = { organizationId: org.id, subscriptionId: s.id, now: midNovember };

    const changed = await subscriptions.changePlan(pool, { ...ref, planKey: 'basic', planVersion: 2 });
    expect(changed.phases.map((p) => [p.planVersion, p.startsAt])).toEqual([
      [1, november.startAt],
      [2, december],
    ]);
    // effective_at may name the boundary itself.
    await plans.create(pool, { organizationId: org.id, key: 'big', currency: 'USD', prices: flat('100') });
    await plans.publishVersion(pool, { organizationId: org.id, planKey: 'big', version: 1 });
    const replaced = await subscriptions.changePlan(pool, { ...ref, planKey: 'big', effectiveAt: december });
    expect(replaced.phases.map((p) => [p.planKey, p.planVersion, p.startsAt])).toEqual([
      ['basic', 1, november.startAt],
      ['big', 1, december],
    ]);
    const back = await subscriptions.changePlan(pool, { ...ref, planKey: 'basic', planVersion: 1 });
    expect(back.phases.map((p) => p.planVersion)).toEqual([1]);
  });

  it('refuses any other instant (no proration), a draft and another currency', async () => {
    const org = await freshOrg('UTC');
    const s = await subscriptions.create(pool, { organizationId: org.id, customer: { externalId: 'c' }, planKey: 'basic', ...november });
    const ref = { organizationId: org.id, subscriptionId: s.id, now: midNovember };
    const prorated = await refusal(subscriptions.changePlan(pool, { ...ref, planKey: 'basic', effectiveAt: at('2026-11-20T00:00:00Z') }));
    expect(prorated).toMatchObject({
      kind: 'failed_precondition',
      code: 'proration_not_supported',
      field: 'effective_at',
      message: expect.stringContaining('next period boundary, 2026-12-01T00:00:00.000Z'),
    });
    expect(await refusal(subscriptions.changePlan(pool, { ...ref, planKey: 'basic', effectiveAt: at('2027-01-01T00:00:00Z') }))).toMatchObject({
      code: 'proration_not_supported',
    });
    expect(await refusal(subscriptions.changePlan(pool, { ...ref, planKey: 'basic', planVersion: 2 }))).toMatchObject({ code: 'plan_version_not_published' });
    expect(await refusal(subscriptions.changePlan(pool, { ...ref, planKey: 'euro' }))).toMatchObject({ code: 'currency_mismatch' });
    expect((await subscriptions.get(pool, ref)).phases).toHaveLength(1);
  });

  it('replaces the first phase of a subscription that has not started', async () => {
    const org = await freshOrg('UTC');
    await plans.publishVersion(pool, { organizationId: org.id, planKey: 'basic', version: 2 });
    const s = await subscriptions.create(pool, { organizationId: org.id, customer: { externalId: 'c' }, planKey: 'basic', planVersion: 1, ...november });
    const early = await subscriptions.changePlan(pool, { organizationId: org.id, subscriptionId: s.id, planKey: 'basic', planVersion: 2, now: at('2026-10-20T00:00:00Z') });
    expect(early.phases.map((p) => [p.planVersion, p.startsAt])).toEqual([[2, november.startAt]]);
  });
});

describe('canceling', () => {
  it('cancels at the end of the current period, twice harmlessly, drops a change scheduled after it, and refuses changes', async () => {
    const org = await freshOrg();
    await plans.publishVersion(pool, { organizationId: org.id, planKey: 'basic', version: 2 });
    const s = await subscriptions.create(pool, { organizationId: org.id, customer: { externalId: 'c' }, planKey: 'basic', planVersion: 1, startAt: at('2026-11-10T00:00:00Z') });
    const ref = { organizationId: org.id, subscriptionId: s.id, now: at('2026-12-15T00:00:00Z') };
    await subscriptions.changePlan(pool, { ...ref, planKey: 'basic', planVersion: 2 });

    const canceled = await subscriptions.cancel(pool, ref);
    // The period holding Dec 15 ends at 00:00 on January 1st in New York.
    expect(canceled).toMatchObject({ status: 'active', cancelAt: at('2027-01-01T05:00:00Z') });
    expect(canceled.phases.map((p) => p.planVersion)).toEqual([1]);
    expect(await subscriptions.cancel(pool, { ...ref, now: at('2027-03-01T00:00:00Z') })).toEqual(canceled);
    expect(await refusal(subscriptions.changePlan(pool, { ...ref, planKey: 'basic', planVersion: 2 }))).toMatchObject({
      kind: 'failed_precondition',
      code: 'subscription_canceled',
    });
  });
});

describe('listing subscriptions', () => {
  it('pages by start, and filters by customer', async () => {
    const org = await freshOrg();
    for (const [id, start] of [
      ['d', '2026-03-01T00:00:00Z'],
      ['e', '2026-01-01T00:00:00Z'],
    ] as const) {
      await customers.create(pool, { organizationId: org.id, externalId: id, name: id, currency: 'USD' });
      await subscriptions.create(pool, { organizationId: org.id, customer: { externalId: id }, planKey: 'basic', startAt: at(start) });
    }
    const c = await subscriptions.create(pool, { organizationId: org.id, customer: { externalId: 'c' }, planKey: 'basic', startAt: at('2026-02-01T00:00:00Z') });
    const first = await subscriptions.list(pool, { organizationId: org.id, pageSize: 2 });
    expect(first.subscriptions.map((s) => s.customerExternalId)).toEqual(['e', 'c']);
    const rest = await subscriptions.list(pool, { organizationId: org.id, pageSize: 2, pageToken: first.nextPageToken });
    expect(rest.subscriptions.map((s) => s.customerExternalId)).toEqual(['d']);
    expect(rest.nextPageToken).toBeUndefined();
    expect((await subscriptions.list(pool, { organizationId: org.id, customerId: c.customerId })).subscriptions).toEqual([c]);
  });
});

describe('tenancy', () => {
  it("finds nothing of another organization's, by subscription or customer id, and changes nothing there", async () => {
    const [owner, other] = [await freshOrg(), await freshOrg()];
    const theirs = await subscriptions.create(pool, { organizationId: owner.id, customer: { externalId: 'c' }, planKey: 'basic' });
    const ref = { organizationId: other.id, subscriptionId: theirs.id };
    const notFound = { kind: 'not_found', code: 'subscription_not_found' };
    expect(await refusal(subscriptions.get(pool, ref))).toMatchObject(notFound);
    expect(await refusal(subscriptions.changePlan(pool, { ...ref, planKey: 'basic' }))).toMatchObject(notFound);
    expect(await refusal(subscriptions.cancel(pool, ref))).toMatchObject(notFound);
    expect(await refusal(subscriptions.list(pool, { organizationId: other.id, customerId: theirs.customerId }))).toMatchObject({ code: 'customer_not_found' });
    expect(await refusal(subscriptions.create(pool, { organizationId: other.id, customer: { customerId: theirs.customerId }, planKey: 'basic' }))).toMatchObject({
      code: 'customer_not_found',
    });
    expect(await refusal(subscriptions.get(pool, { organizationId: other.id, subscriptionId: randomUUID() }))).toMatchObject(notFound);
    expect((await subscriptions.list(pool, { organizationId: other.id })).subscriptions).toEqual([]);
    expect(await subscriptions.get(pool, { organizationId: owner.id, subscriptionId: theirs.id })).toEqual(theirs);
  });
});
