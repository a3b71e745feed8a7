import { API_KEY_SCOPES, generateApiKey, type ApiKeyScope } from '@polaris/shared/auth';
import { z } from 'zod';
import { isUniqueViolation } from '../pg-errors';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { requireEntityName } from './entity-name';
import type { Organization } from './organizations.repository';

/**
 * An API key as stored, minus its secret: only sha256(whole key) is kept, and it never leaves the
 * database (every query names its columns; none selects `secret_sha256`).
 */
export const apiKeySchema = z.object({
  id: z.guid(),
  organizationId: z.guid(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  createdAt: z.date(),
  revokedAt: z.date().nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

/** A key with the organization it belongs to: what a presented credential resolves to. */
export interface ApiKeyWithOrganization {
  apiKey: ApiKey;
  organization: Organization;
}

const COLUMNS = `k.id, k.org_id AS "organizationId", k.name, k.prefix, k.scopes, k.created_at AS "createdAt", k.revoked_at AS "revokedAt"`;
const WITH_ORGANIZATION = `SELECT ${COLUMNS}, o.slug AS "organizationSlug", o.name AS "organizationName", o.created_at AS "organizationCreatedAt"
  FROM api_keys k JOIN organizations o ON o.id = k.org_id`;

const withOrganizationSchema = apiKeySchema
  .extend({ organizationSlug: z.string(), organizationName: z.string(), organizationCreatedAt: z.date() })
  .transform(({ organizationSlug, organizationName, organizationCreatedAt, ...apiKey }): ApiKeyWithOrganization => ({
    apiKey,
    organization: { id: apiKey.organizationId, slug: organizationSlug, name: organizationName, createdAt: organizationCreatedAt },
  }));

// Tenant isolation (migration 006): `list`, `findActiveByHash` and `revokeAllOf` run under withOrg;
// `create` runs in its caller's (apiKeyManagement's withOrg, or the operator's owner connection);
// `findByPrefix` and `revoke` by id are the operator CLI's, whose owner connection sees every
// organization (a service calling them sees no key at all).

/** Creates a key; the secret is in the result once and never stored (only its sha256 is). */
async function create(
  db: Queryable,
  input: { organizationId: string; name: string; scopes: readonly ApiKeyScope[] },
): Promise<{ apiKey: ApiKey; key: string }> {
  const name = requireEntityName('API key', input.name);
  // 36^8 prefixes make a clash very unlikely, but the UNIQUE constraint decides; retry a few times.
  for (let attempt = 1; ; attempt++) {
    const generated = generateApiKey();
    try {
      const { rows } = await db.query(
        `INSERT INTO api_keys AS k (org_id, name, prefix, secret_sha256, scopes) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [input.organizationId, name, generated.prefix, generated.sha256, input.scopes],
      );
      const apiKey = parseFirstRow('apiKeys.create', apiKeySchema, rows);
      if (!apiKey) throw new Error('INSERT … RETURNING returned no row');
      return { apiKey, key: generated.key };
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 3) throw error;
    }
  }
}

/** An organization's keys, revoked ones included, oldest first. */
async function list(db: Transactable, organizationId: string): Promise<ApiKey[]> {
  const { rows } = await withOrg(db, organizationId, (tx) =>
    tx.query(`SELECT ${COLUMNS} FROM api_keys k WHERE k.org_id = $1 ORDER BY k.created_at, k.prefix`, [organizationId]),
  );
  return parseRows('apiKeys.list', apiKeySchema, rows);
}

/** The key with this (unique) prefix, revoked or not. */
async function findByPrefix(db: Queryable, prefix: string): Promise<ApiKeyWithOrganization | undefined> {
  const { rows } = await db.query(`${WITH_ORGANIZATION} WHERE k.prefix = $1`, [prefix]);
  return parseFirstRow('apiKeys.findByPrefix', withOrganizationSchema, rows);
}

const holderSchema = z.object({ apiKeyId: z.guid(), organizationId: z.guid() });

/**
 * The key whose sha256 matches, if it exists and is not revoked. Keyed only by the credential: no
 * organization is known yet, so its id and organization come from the SECURITY DEFINER function
 * of migration 006, and the key and organization are then read under withOrg.
 */
async function findActiveByHash(db: Transactable, sha256: Buffer): Promise<ApiKeyWithOrganization | undefined> {
  const { rows: holders } = await db.query('SELECT api_key_id AS "apiKeyId", organization_id AS "organizationId" FROM polaris_active_api_key($1)', [sha256]);
  const holder = parseFirstRow('apiKeys.holderOfHash', holderSchema, holders);
  if (!holder) return undefined;
  const { rows } = await withOrg(db, holder.organizationId, (tx) => tx.query(`${WITH_ORGANIZATION} WHERE k.id = $1 AND k.revoked_at IS NULL`, [holder.apiKeyId]));
  return parseFirstRow('apiKeys.findActiveByHash', withOrganizationSchema, rows);
}

const revokedAtSchema = z.object({ revokedAt: z.date() });

/**
 * Revokes a key, idempotently: a key revoked before keeps its first revocation time
 * (`alreadyRevoked`). Undefined when no such key exists (any more).
 */
async function revoke(db: Queryable, id: string): Promise<{ revokedAt: Date; alreadyRevoked: boolean } | undefined> {
  // `revoked_at IS NULL` keeps the first time if another revocation ran since the caller looked.
  const updated = await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING revoked_at AS "revokedAt"', [id]);
  const now = parseFirstRow('apiKeys.revoke', revokedAtSchema, updated.rows);
  if (now) return { revokedAt: now.revokedAt, alreadyRevoked: false };
  const earlier = await db.query('SELECT revoked_at AS "revokedAt" FROM api_keys WHERE id = $1 AND revoked_at IS NOT NULL', [id]);
  const since = parseFirstRow('apiKeys.revoke', revokedAtSchema, earlier.rows);
  return since && { revokedAt: since.revokedAt, alreadyRevoked: true };
}

/** Revokes every live key of an organization; returns how many were live. */
async function revokeAllOf(db: Transactable, organizationId: string): Promise<number> {
  const result = await withOrg(db, organizationId, (tx) => tx.query('UPDATE api_keys SET revoked_at = now() WHERE org_id = $1 AND revoked_at IS NULL', [organizationId]));
  return result.rowCount ?? 0;
}

/** The `api_keys` table: the only code that reads or writes it. */
export const apiKeys = { create, list, findByPrefix, findActiveByHash, revoke, revokeAllOf };
