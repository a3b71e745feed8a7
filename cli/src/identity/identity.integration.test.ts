import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Organization } from '@polaris/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOperatorConfig } from '../config';
import { migrateAll } from '../migrate/migrate';
import { polaris } from '../test-support/operator-cli';
import { revokeApiKey } from './api-key-revocation';
import { createApiKey, listApiKeys } from './api-keys';
import { createOrganization, findOrganization, listOrganizations } from './organizations';

const db = new pg.Client({ connectionString: loadOperatorConfig().postgres.url });
// Each run gets its own organization, so parallel or repeated runs never see each other's rows.
const slug = `test-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  await migrateAll(loadOperatorConfig(), () => undefined);
  await db.connect();
});

// Tests below each make their own organizations (and so their own keys) and delete them at the end.
const slugs = [slug];
async function freshOrg(): Promise<Organization> {
  const own = `test-${randomBytes(4).toString('hex')}`;
  slugs.push(own);
  return createOrganization(db, { name: own, slug: own });
}

afterAll(async () => {
  await db.query('DELETE FROM organizations WHERE slug = ANY($1)', [slugs]);
  await db.end();
});

describe('org and api-key creation', () => {
  it('creates an organization and finds it by id and by slug', async () => {
    const org = await createOrganization(db, { name: 'Test Org', slug });
    expect(org).toMatchObject({ slug, name: 'Test Org' });
    expect(await findOrganization(db, org.id)).toEqual(org);
    expect(await findOrganization(db, slug)).toEqual(org);
    await expect(createOrganization(db, { name: 'Again', slug })).rejects.toThrow(/already exists/);
  });

  it('stores only the prefix and sha256 of the whole key', async () => {
    const created = await createApiKey(db, { org: slug, name: 'ci', scopes: ['events:write'] });
    expect(created.key.startsWith(`${created.prefix}_`)).toBe(true);
    const { rows } = await db.query<{ prefix: string; secret_sha256: Buffer; scopes: string[] }>(
      'SELECT prefix, secret_sha256, scopes FROM api_keys WHERE id = $1',
      [created.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.prefix).toBe(created.prefix);
    expect(rows[0]?.secret_sha256.equals(createHash('sha256').update(created.key).digest())).toBe(true);
    expect(rows[0]?.scopes).toEqual(['events:write']);
  });
});

describe('org list and api-key list', () => {
  it('lists organizations, including a new one', async () => {
    const org = await freshOrg();
    expect((await listOrganizations(db)).find((o) => o.id === org.id)).toMatchObject({ ...org, createdAt: expect.any(Date) });
    const result = await polaris('org', 'list', '--json');
    expect(result.exitCode).toBe(0);
    expect((JSON.parse(result.stdout) as { id: string }[]).find((o) => o.id === org.id)).toEqual({
      ...org,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it("lists an organization's keys, revoked ones included, and never a secret or hash", async () => {
    const org = await freshOrg();
    const live = await createApiKey(db, { org: org.slug, name: 'live', scopes: ['events:write'] });
    const gone = await createApiKey(db, { org: org.id, name: 'gone', scopes: ['usage:read'] });
    await revokeApiKey(db, { prefix: gone.prefix });

    const { keys } = await listApiKeys(db, org.slug);
    expect(keys.map((k) => [k.prefix, k.name, k.scopes, k.revokedAt === null])).toEqual([
      [live.prefix, 'live', ['events:write'], true],
      [gone.prefix, 'gone', ['usage:read'], false],
    ]);

    const json = await polaris('api-key', 'list', '--org', org.slug, '--json');
    const text = await polaris('api-key', 'list', '--org', org.id);
    expect([json.exitCode, text.exitCode]).toEqual([0, 0]);
    expect((JSON.parse(json.stdout) as object[]).map((k) => Object.keys(k).sort())).toEqual([
      ['createdAt', 'name', 'prefix', 'revokedAt', 'scopes'],
      ['createdAt', 'name', 'prefix', 'revokedAt', 'scopes'],
    ]);
    expect(text.stdout).toContain(live.prefix);
    expect(text.stdout).toContain(gone.prefix);
    for (const created of [live, gone]) {
      const secret = created.key.slice(created.prefix.length + 1);
      const sha256 = createHash('sha256').update(created.key).digest();
      for (const output of [json.stdout, text.stdout]) {
        for (const leak of [secret, sha256.toString('hex'), sha256.toString('base64'), `\\x${sha256.toString('hex')}`]) {
          expect(output).not.toContain(leak);
        }
      }
    }
  });

  it('refuses to list the keys of an unknown organization', async () => {
    const result = await polaris('api-key', 'list', '--org', `test-missing-${randomBytes(4).toString('hex')}`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/no organization with slug "test-missing-/);
  });
});

describe('api-key revoke', () => {
  const revokedAt = async (prefix: string) =>
    (await db.query<{ revoked_at: Date | null }>('SELECT revoked_at FROM api_keys WHERE prefix = $1', [prefix])).rows[0]?.revoked_at;

  it('revokes once; a second revoke reports the first time and changes nothing', async () => {
    const org = await freshOrg();
    const created = await createApiKey(db, { org: org.slug, name: 'ci', scopes: ['events:write'] });
    const other = await createApiKey(db, { org: org.slug, name: 'other', scopes: ['events:write'] });

    const first = await revokeApiKey(db, { prefix: created.prefix, org: org.slug });
    expect(first).toMatchObject({ prefix: created.prefix, name: 'ci', organization: org, alreadyRevoked: false });
    expect(await revokedAt(created.prefix)).toEqual(first.revokedAt);

    const second = await revokeApiKey(db, { prefix: created.prefix });
    expect(second).toMatchObject({ alreadyRevoked: true, revokedAt: first.revokedAt });
    expect(await revokedAt(created.prefix)).toEqual(first.revokedAt);
    expect(await revokedAt(other.prefix)).toBeNull();

    const again = await polaris('api-key', 'revoke', '--prefix', created.prefix, '--org', org.id);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`was already revoked at ${first.revokedAt.toISOString()}`);
    expect(again.stdout).toMatch(/API_KEY_CACHE_TTL_MS \(default 30 s\)/);
  });

  it('through the CLI: revokes, exits 0 and reminds of the cache delay', async () => {
    const org = await freshOrg();
    const created = await createApiKey(db, { org: org.slug, name: 'ci', scopes: ['events:write'] });
    const result = await polaris('api-key', 'revoke', '--prefix', created.prefix);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`API key ${created.prefix} (ci) of ${org.slug} revoked at `);
    expect(result.stdout).toMatch(/API_KEY_CACHE_TTL_MS \(default 30 s\)/);
    expect(await revokedAt(created.prefix)).toBeInstanceOf(Date);
  });

  it("refuses to revoke another organization's key when --org names the wrong one", async () => {
    const owner = await freshOrg();
    const bystander = await freshOrg();
    const created = await createApiKey(db, { org: owner.slug, name: 'ci', scopes: ['events:write'] });

    await expect(revokeApiKey(db, { prefix: created.prefix, org: bystander.slug })).rejects.toThrow(
      `API key ${created.prefix} belongs to organization ${owner.slug} (${owner.id}), not ${bystander.slug} (${bystander.id}); nothing revoked`,
    );
    const result = await polaris('api-key', 'revoke', '--prefix', created.prefix, '--org', bystander.id);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('nothing revoked');
    expect(await revokedAt(created.prefix)).toBeNull();
  });

  it('names an unknown prefix, and refuses a whole key in place of a prefix', async () => {
    const unknown = `pol_${randomBytes(4).toString('hex')}`;
    await expect(revokeApiKey(db, { prefix: unknown })).rejects.toThrow(`no API key with prefix "${unknown}"`);
    const result = await polaris('api-key', 'revoke', '--prefix', unknown);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`no API key with prefix "${unknown}"`);

    const org = await freshOrg();
    const created = await createApiKey(db, { org: org.slug, name: 'ci', scopes: ['events:write'] });
    await expect(revokeApiKey(db, { prefix: created.key })).rejects.toThrow(`use --prefix ${created.prefix}`);
    expect(await revokedAt(created.prefix)).toBeNull();
  });

  it('refuses an unknown --org before touching the key', async () => {
    const org = await freshOrg();
    const created = await createApiKey(db, { org: org.slug, name: 'ci', scopes: ['events:write'] });
    await expect(revokeApiKey(db, { prefix: created.prefix, org: `test-missing-${randomBytes(4).toString('hex')}` })).rejects.toThrow(
      /no organization with slug "test-missing-/,
    );
    expect(await revokedAt(created.prefix)).toBeNull();
  });
});
