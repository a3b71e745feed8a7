import { randomBytes, randomUUID } from 'node:crypto';
import { PolarisError } from '@polaris/shared/errors';
import { hashApiKey } from '@polaris/shared/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from '../migrate';
import { createPool, type Pool } from '../pool';
import { apiKeys } from './api-keys.repository';
import { organizations, type Organization } from './organizations.repository';
import { organizationRateLimits } from './organization-rate-limits.repository';

// The local stack's PostgreSQL; every test makes its own organizations and deletes them at the end.
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://polaris:polaris@127.0.0.1:55432/polaris';
let pool: Pool;
const created: string[] = [];

async function freshOrg(): Promise<Organization> {
  const slug = `test-${randomBytes(4).toString('hex')}`;
  const org = await organizations.create(pool, { name: `Org ${slug}`, slug });
  created.push(org.id);
  return org;
}

beforeAll(async () => {
  await migratePostgres({ databaseUrl, dir: POSTGRES_MIGRATIONS_DIR, log: () => undefined });
  pool = createPool({ DATABASE_URL: databaseUrl, DATABASE_POOL_MAX: 2 }, 'it-identity-repository');
});

afterAll(async () => {
  await pool?.query('DELETE FROM organizations WHERE id = ANY($1::uuid[])', [created]);
  await pool?.end();
});

describe('organizations', () => {
  it('creates one, deriving the slug from the name, and finds it by id, by slug and in the list', async () => {
    const name = `Acme ${randomBytes(3).toString('hex')}`;
    const org = await organizations.create(pool, { name: `  ${name}  ` });
    created.push(org.id);
    expect(org).toEqual({ id: expect.any(String), slug: name.toLowerCase().replace(' ', '-'), name, createdAt: expect.any(Date) });
    expect(await organizations.findById(pool, org.id)).toEqual(org);
    expect(await organizations.findBySlug(pool, org.slug)).toEqual(org);
    expect((await organizations.list(pool)).find((o) => o.id === org.id)).toEqual(org);
    expect(await organizations.findById(pool, randomUUID())).toBeUndefined();
  });

  it('refuses a bad name, a bad slug and a taken slug with invalid_argument errors', async () => {
    const org = await freshOrg();
    const refusal = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err);
    expect(await refusal(organizations.create(pool, { name: ' ' }))).toMatchObject({ code: 'invalid_organization_name' });
    expect(await refusal(organizations.create(pool, { name: 'x', slug: 'A!' }))).toMatchObject({ code: 'invalid_organization_slug' });
    const taken = await refusal(organizations.create(pool, { name: 'Again', slug: org.slug }));
    expect(taken).toBeInstanceOf(PolarisError);
    expect(taken).toMatchObject({ kind: 'invalid_argument', code: 'organization_slug_taken' });
  });
});

describe('API keys', () => {
  it('resolves a live key by its hash to its own organization, never a revoked one', async () => {
    const org = await freshOrg();
    const { apiKey, key } = await apiKeys.create(pool, { organizationId: org.id, name: ' ci ', scopes: ['usage:read'] });
    expect(apiKey).toEqual({
      id: expect.any(String), organizationId: org.id, name: 'ci', prefix: key.split('_').slice(0, 2).join('_'),
      scopes: ['usage:read'], createdAt: expect.any(Date), revokedAt: null,
    });
    expect(await apiKeys.findActiveByHash(pool, hashApiKey(key))).toEqual({ apiKey, organization: org });
    expect(await apiKeys.findByPrefix(pool, apiKey.prefix)).toEqual({ apiKey, organization: org });

    const first = await apiKeys.revoke(pool, apiKey.id);
    expect(first).toEqual({ revokedAt: expect.any(Date), alreadyRevoked: false });
    expect(await apiKeys.revoke(pool, apiKey.id)).toEqual({ revokedAt: first?.revokedAt, alreadyRevoked: true });
    expect(await apiKeys.revoke(pool, randomUUID())).toBeUndefined();
    expect(await apiKeys.findActiveByHash(pool, hashApiKey(key))).toBeUndefined();
    expect((await apiKeys.findByPrefix(pool, apiKey.prefix))?.apiKey.revokedAt).toEqual(first?.revokedAt);
  });

  it('lists an organization\'s keys oldest first, and revokes all of them at once', async () => {
    const org = await freshOrg();
    const other = await freshOrg();
    const a = await apiKeys.create(pool, { organizationId: org.id, name: 'a', scopes: ['events:write'] });
    const b = await apiKeys.create(pool, { organizationId: org.id, name: 'b', scopes: ['events:write', 'usage:read'] });
    const bystander = await apiKeys.create(pool, { organizationId: other.id, name: 'c', scopes: ['events:write'] });
    expect((await apiKeys.list(pool, org.id)).map((k) => k.prefix)).toEqual([a.apiKey.prefix, b.apiKey.prefix]);

    expect(await apiKeys.revokeAllOf(pool, org.id)).toBe(2);
    expect(await apiKeys.revokeAllOf(pool, org.id)).toBe(0);
    expect((await apiKeys.list(pool, org.id)).every((k) => k.revokedAt instanceof Date)).toBe(true);
    expect((await apiKeys.list(pool, other.id))[0]?.revokedAt).toBeNull();
    expect(await apiKeys.findActiveByHash(pool, hashApiKey(bystander.key))).toBeDefined();
  });

  it('refuses a bad name before touching the database', async () => {
    const org = await freshOrg();
    await expect(apiKeys.create(pool, { organizationId: org.id, name: 'x'.repeat(201), scopes: ['events:write'] })).rejects.toThrow(
      'API key name must be 1 to 200 characters',
    );
    expect(await apiKeys.list(pool, org.id)).toEqual([]);
  });
});

describe('organization rate limits', () => {
  it('sets, replaces and clears one organization\'s limit, leaving the others without one', async () => {
    const org = await freshOrg();
    const other = await freshOrg();
    expect(await organizationRateLimits.find(pool, org.id)).toBeUndefined();
    const first = await organizationRateLimits.set(pool, org.id, { eventsPerSecond: 100, burst: 500 });
    expect(first).toEqual({ organizationId: org.id, eventsPerSecond: 100, burst: 500, updatedAt: expect.any(Date) });
    expect(await organizationRateLimits.set(pool, org.id, { eventsPerSecond: 2_000, burst: 2_000 })).toMatchObject({ eventsPerSecond: 2_000, burst: 2_000 });
    expect(await organizationRateLimits.find(pool, org.id)).toMatchObject({ eventsPerSecond: 2_000, burst: 2_000 });
    expect(await organizationRateLimits.find(pool, other.id)).toBeUndefined();
    expect(await organizationRateLimits.clear(pool, org.id)).toBe(true);
    expect(await organizationRateLimits.clear(pool, org.id)).toBe(false);
    expect(await organizationRateLimits.find(pool, org.id)).toBeUndefined();
  });

  it('refuses a rate below 1, a fraction and a burst below the rate, naming the option, and stores nothing', async () => {
    const org = await freshOrg();
    for (const [input, field] of [
      [{ eventsPerSecond: 0, burst: 10 }, 'eventsPerSecond'],
      [{ eventsPerSecond: 1.5, burst: 10 }, 'eventsPerSecond'],
      [{ eventsPerSecond: 100, burst: 99 }, 'burst'],
      [{ eventsPerSecond: 100, burst: 2 ** 31 }, 'burst'],
    ] as const) {
      await expect(organizationRateLimits.set(pool, org.id, input)).rejects.toMatchObject({ kind: 'invalid_argument', code: 'invalid_rate_limit', field });
    }
    expect(await organizationRateLimits.find(pool, org.id)).toBeUndefined();
  });

  it('goes with its organization', async () => {
    const org = await organizations.create(pool, { name: `Gone ${randomBytes(3).toString('hex')}` });
    await organizationRateLimits.set(pool, org.id, { eventsPerSecond: 5, burst: 5 });
    await pool.query('DELETE FROM organizations WHERE id = $1', [org.id]);
    expect(await organizationRateLimits.find(pool, org.id)).toBeUndefined();
  });
});
