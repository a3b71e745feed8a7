import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCliConfig } from '../config';
import { migrateAll } from '../migrate/migrate';
import { createApiKey } from './api-keys.repository';
import { createOrganization, findOrganization } from './organizations';

const db = new pg.Client({ connectionString: loadCliConfig().postgres.url });
// Each run gets its own organization, so parallel or repeated runs never see each other's rows.
const slug = `test-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  await migrateAll(loadCliConfig(), () => undefined);
  await db.connect();
});

afterAll(async () => {
  await db.query('DELETE FROM organizations WHERE slug = $1', [slug]);
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
