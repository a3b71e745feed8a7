import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizations, type Organization } from '../identity/organizations.repository';
import type { Pool } from '../pool';
import { throwawayPostgres, type ThrowawayPostgres } from '../testing/throwaway-database';
import { customers } from './customers.repository';
import { plans } from './plans.repository';
import { subscriptions } from './subscriptions.repository';

// Customers and their subjects over a real PostgreSQL, each test in an organization of its own.

let db: ThrowawayPostgres;
let pool: Pool;

beforeAll(async () => {
  db = await throwawayPostgres();
  pool = db.pool;
});
afterAll(async () => db?.drop());

async function freshOrg(): Promise<Organization> {
  const slug = `test-${randomBytes(4).toString('hex')}`;
  return organizations.create(pool, { name: slug, slug });
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
  const { rows } = await pool.query<{ customers: string; subjects: string }>(
    `SELECT (SELECT count(*) FROM customers WHERE organization_id = $1) AS customers,
            (SELECT count(*) FROM customer_subjects WHERE organization_id = $1) AS subjects`,
    [organizationId],
  );
  return rows[0];
};

/** A published USD plan with one flat price, and a subscription of the customer to it. */
async function subscribe(organizationId: string, externalId: string): Promise<void> {
  const key = `p_${randomBytes(3).toString('hex')}`;
  await plans.create(pool, { organizationId, key, currency: 'USD', prices: [{ key: 'base', model: 'FLAT', amount: '10' }] });
  await plans.publishVersion(pool, { organizationId, planKey: key, version: 1 });
  await subscriptions.create(pool, { organizationId, customer: { externalId }, planKey: key });
}

describe('creating a customer', () => {
  it('stores it with sorted subjects, UTC by default, found by id and by external id', async () => {
    const org = await freshOrg();
    const created = await customers.create(pool, {
      organizationId: org.id,
      externalId: 'cus_42',
      name: ' Acme Corp ',
      email: 'billing@acme.test',
      currency: 'EUR',
      subjects: ['user-b', 'user-a', 'user-b'],
    });
    expect(created).toMatchObject({
      organizationId: org.id,
      externalId: 'cus_42',
      name: 'Acme Corp',
      email: 'billing@acme.test',
      currency: 'EUR',
      timeZone: 'UTC',
      subjects: ['user-a', 'user-b'],
      status: 'active',
    });
    expect(await customers.get(pool, { organizationId: org.id, customerId: created.id })).toEqual(created);
    expect(await customers.get(pool, { organizationId: org.id, externalId: 'cus_42' })).toEqual(created);
    expect(await customers.subjectsOf(pool, org.id, created.id)).toEqual(['user-a', 'user-b']);
    const kolkata = await customers.create(pool, { organizationId: org.id, externalId: 'cus_43', name: 'K', currency: 'JPY', timeZone: 'Asia/Kolkata' });
    expect(kolkata).toMatchObject({ currency: 'JPY', timeZone: 'Asia/Kolkata' });
  });

  it('refuses bad input naming the field, and leaves nothing behind', async () => {
    const org = await freshOrg();
    await customers.create(pool, { organizationId: org.id, externalId: 'taken', name: 'T', currency: 'USD', subjects: ['held'] });
    const cases: Array<[object, object]> = [
      [{ currency: 'usd' }, { kind: 'invalid_argument', code: 'unknown_currency', field: 'currency' }],
      [{ currency: 'ABC' }, { kind: 'invalid_argument', code: 'unknown_currency', field: 'currency' }],
      [{ timeZone: 'Mars/Olympus' }, { kind: 'invalid_argument', code: 'unknown_time_zone', field: 'time_zone' }],
      [{ externalId: '' }, { code: 'invalid_external_id', field: 'external_id' }],
      [{ externalId: ' padded' }, { code: 'invalid_external_id', field: 'external_id' }],
      [{ name: 'x'.repeat(201) }, { code: 'invalid_name', field: 'name' }],
      [{ email: 'not an address' }, { code: 'invalid_email', field: 'email' }],
      [{ subjects: ['ok', ''] }, { code: 'invalid_subject', field: 'subjects[1]' }],
      [{ subjects: ['a\u0000b'] }, { code: 'invalid_subject', field: 'subjects[0]' }],
      [{ externalId: 'taken' }, { kind: 'already_exists', code: 'customer_exists', field: 'external_id' }],
      [{ subjects: ['fresh-1', 'held', 'fresh-2'] }, { kind: 'already_exists', code: 'subject_taken', field: 'subjects[1]', message: expect.stringContaining('"taken"') }],
      [{ organizationId: randomUUID() }, { kind: 'not_found', code: 'organization_not_found' }],
      [{ organizationId: 'acme' }, { kind: 'invalid_argument', code: 'invalid_organization_id' }],
    ];
    for (const [change, expected] of cases) {
      const err = await refusal(customers.create(pool, { organizationId: org.id, externalId: 'fresh', name: 'F', currency: 'USD', ...change }));
      expect(err, JSON.stringify(change)).toMatchObject(expected);
    }
    expect(await counts(org.id)).toEqual({ customers: '1', subjects: '1' });
  });
});

describe('a customer’s subjects', () => {
  it('adds all or none: a subject another customer holds refuses the whole request', async () => {
    const org = await freshOrg();
    const alice = await customers.create(pool, { organizationId: org.id, externalId: 'alice', name: 'A', currency: 'USD', subjects: ['a1'] });
    await customers.create(pool, { organizationId: org.id, externalId: 'bob', name: 'B', currency: 'USD', subjects: ['b1'] });

    const err = await refusal(customers.addSubjects(pool, { organizationId: org.id, externalId: 'alice', subjects: ['a2', 'a3', 'b1', 'a4'] }));
    expect(err).toMatchObject({ kind: 'already_exists', code: 'subject_taken', field: 'subjects[2]', message: expect.stringContaining('customer "bob"') });
    expect(await customers.subjectsOf(pool, org.id, alice.id)).toEqual(['a1']);

    // Adding what the customer already has is harmless; repeats in a request count once.
    const added = await customers.addSubjects(pool, { organizationId: org.id, customerId: alice.id, subjects: ['a1', 'a2', 'a2'] });
    expect(added.subjects).toEqual(['a1', 'a2']);
    const removed = await customers.removeSubjects(pool, { organizationId: org.id, externalId: 'alice', subjects: ['a1', 'never-had', 'b1'] });
    expect(removed.subjects).toEqual(['a2']);
    expect((await customers.get(pool, { organizationId: org.id, externalId: 'bob' })).subjects).toEqual(['b1']);
    // Once freed, a subject may move to another customer.
    expect((await customers.addSubjects(pool, { organizationId: org.id, externalId: 'bob', subjects: ['a1'] })).subjects).toEqual(['a1', 'b1']);
    expect(await refusal(customers.addSubjects(pool, { organizationId: org.id, externalId: 'bob', subjects: [] }))).toMatchObject({
      code: 'subjects_required',
      field: 'subjects',
    });
  });

  it('lets two organizations map the same subject', async () => {
    const [a, b] = [await freshOrg(), await freshOrg()];
    await customers.create(pool, { organizationId: a.id, externalId: 'c', name: 'C', currency: 'USD', subjects: ['shared'] });
    const theirs = await customers.create(pool, { organizationId: b.id, externalId: 'c', name: 'C', currency: 'USD', subjects: ['shared'] });
    expect(theirs.subjects).toEqual(['shared']);
  });
});

describe('listing customers', () => {
  it('pages by external id, and hides archived ones unless asked', async () => {
    const org = await freshOrg();
    for (const id of ['c3', 'c1', 'c2', 'c4']) await customers.create(pool, { organizationId: org.id, externalId: id, name: id, currency: 'USD' });
    await customers.archive(pool, { organizationId: org.id, externalId: 'c4' });
    const first = await customers.list(pool, { organizationId: org.id, pageSize: 2 });
    expect(first.customers.map((c) => c.externalId)).toEqual(['c1', 'c2']);
    const second = await customers.list(pool, { organizationId: org.id, pageSize: 2, pageToken: first.nextPageToken });
    expect(second).toMatchObject({ customers: [{ externalId: 'c3' }] });
    expect(second.nextPageToken).toBeUndefined();
    expect((await customers.list(pool, { organizationId: org.id, includeArchived: true })).customers.map((c) => c.externalId)).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(await refusal(customers.list(pool, { organizationId: org.id, pageToken: 'garbage' }))).toMatchObject({ code: 'invalid_page_token' });
  });
});

describe('updating and archiving a customer', () => {
  it('edits name, email, currency and time zone until the customer subscribes; then currency and zone are fixed', async () => {
    const org = await freshOrg();
    await customers.create(pool, { organizationId: org.id, externalId: 'c', name: 'C', currency: 'EUR' });
    const edited = await customers.update(pool, { organizationId: org.id, externalId: 'c', name: 'Cee', email: 'c@c.test', currency: 'USD', timeZone: 'America/New_York' });
    expect(edited).toMatchObject({ name: 'Cee', email: 'c@c.test', currency: 'USD', timeZone: 'America/New_York' });
    expect(edited.updatedAt.getTime()).toBeGreaterThanOrEqual(edited.createdAt.getTime());

    await subscribe(org.id, 'c');
    expect(await refusal(customers.update(pool, { organizationId: org.id, externalId: 'c', currency: 'EUR' }))).toMatchObject({
      kind: 'failed_precondition',
      code: 'customer_has_subscription',
      field: 'currency',
    });
    expect(await refusal(customers.update(pool, { organizationId: org.id, externalId: 'c', timeZone: 'UTC' }))).toMatchObject({
      code: 'customer_has_subscription',
      field: 'time_zone',
    });
    // The same values are no change, and the name still moves.
    expect(await customers.update(pool, { organizationId: org.id, externalId: 'c', currency: 'USD', name: 'Sea' })).toMatchObject({ name: 'Sea', currency: 'USD' });

    expect(await refusal(customers.archive(pool, { organizationId: org.id, externalId: 'c' }))).toMatchObject({
      kind: 'failed_precondition',
      code: 'customer_has_active_subscription',
    });
  });

  it('archives a customer without a subscription, twice harmlessly, and then refuses changes', async () => {
    const org = await freshOrg();
    await customers.create(pool, { organizationId: org.id, externalId: 'gone', name: 'G', currency: 'USD' });
    const archived = await customers.archive(pool, { organizationId: org.id, externalId: 'gone' });
    expect(archived.status).toBe('archived');
    expect(await customers.archive(pool, { organizationId: org.id, externalId: 'gone' })).toEqual(archived);
    expect(await refusal(customers.update(pool, { organizationId: org.id, externalId: 'gone', name: 'X' }))).toMatchObject({ code: 'customer_archived' });
    expect(await refusal(customers.addSubjects(pool, { organizationId: org.id, externalId: 'gone', subjects: ['s'] }))).toMatchObject({ code: 'customer_archived' });
  });
});

describe('tenancy', () => {
  it("finds nothing of another organization's, by id or external id, and changes nothing there", async () => {
    const [owner, other] = [await freshOrg(), await freshOrg()];
    const theirs = await customers.create(pool, { organizationId: owner.id, externalId: 'private', name: 'P', currency: 'USD', subjects: ['s1'] });
    const notFound = { kind: 'not_found', code: 'customer_not_found' };
    const byId = { organizationId: other.id, customerId: theirs.id };
    expect(await refusal(customers.get(pool, byId))).toMatchObject(notFound);
    expect(await refusal(customers.get(pool, { organizationId: other.id, externalId: 'private' }))).toMatchObject(notFound);
    expect(await refusal(customers.update(pool, { ...byId, name: 'mine' }))).toMatchObject(notFound);
    expect(await refusal(customers.archive(pool, byId))).toMatchObject(notFound);
    expect(await refusal(customers.addSubjects(pool, { ...byId, subjects: ['s2'] }))).toMatchObject(notFound);
    expect(await refusal(customers.removeSubjects(pool, { ...byId, subjects: ['s1'] }))).toMatchObject(notFound);
    expect(await refusal(customers.subjectsOf(pool, other.id, theirs.id))).toMatchObject(notFound);
    expect(await refusal(customers.get(pool, { organizationId: other.id, customerId: 'not-a-uuid' }))).toMatchObject(notFound);
    expect((await customers.list(pool, { organizationId: other.id, includeArchived: true })).customers).toEqual([]);
    expect(await customers.get(pool, { organizationId: owner.id, customerId: theirs.id })).toEqual(theirs);
    expect(await refusal(customers.get(pool, { organizationId: owner.id, customerId: theirs.id, externalId: 'private' }))).toMatchObject({
      code: 'invalid_customer_ref',
    });
  });
});
