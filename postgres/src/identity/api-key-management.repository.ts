import { z } from 'zod';
import type { ApiKeyScope } from '@polaris/shared/auth';
import { PolarisError } from '@polaris/shared/errors';
import { decodePageToken, encodePageToken, pageSize } from '../meters/page-token';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { apiKeys, apiKeySchema, type ApiKey } from './api-keys.repository';

// An organization managing its own keys (polaris.v1.ApiKeys, through the gateway). Every query runs
// inside withOrg, so row-level security holds it to that organization whatever the SQL says, and
// each one also names `org_id` itself: a key id of another organization is simply not found.
// Keys are made and hashed by apiKeys.create, the same code the operator CLI uses.

const COLUMNS = `k.id, k.org_id AS "organizationId", k.name, k.prefix, k.scopes, k.created_at AS "createdAt", k.revoked_at AS "revokedAt"`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The page token holds the last key's (created_at, id): keyset paging, stable while keys are added or revoked. */
function afterKey(token: string | undefined): { createdAt: string; id: string } | undefined {
  const after = decodePageToken(token);
  if (after === undefined) return undefined;
  const [createdAt, id] = after.split('|');
  if (!createdAt || !id || !UUID.test(id) || Number.isNaN(Date.parse(createdAt))) {
    throw new PolarisError('invalid_argument', 'invalid_page_token', 'page_token is not a token this listing returned', 'page_token');
  }
  return { createdAt, id };
}

export interface ListApiKeysInput {
  organizationId: string;
  pageSize?: number;
  pageToken?: string;
}

/** One page of the organization's keys, revoked ones included, oldest first. */
async function list(db: Transactable, input: ListApiKeysInput): Promise<{ apiKeys: ApiKey[]; nextPageToken?: string }> {
  const size = pageSize(input.pageSize);
  const after = afterKey(input.pageToken);
  // Timestamps compare at microseconds in SQL but leave as milliseconds: the cursor is kept as the
  // text PostgreSQL printed, so no key is skipped or repeated by rounding.
  const found = await withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(
      `SELECT ${COLUMNS}, k.created_at::text AS cursor FROM api_keys k
        WHERE k.org_id = $1 AND ($2::timestamptz IS NULL OR (k.created_at, k.id) > ($2::timestamptz, $3::uuid))
        ORDER BY k.created_at, k.id LIMIT $4`,
      [input.organizationId, after?.createdAt ?? null, after?.id ?? null, size + 1],
    );
    return parseRows('apiKeyManagement.list', apiKeySchema.extend({ cursor: z.string() }), rows);
  });
  const page = found.slice(0, size);
  const last = page.at(-1);
  const keys = page.map(({ cursor: _cursor, ...key }) => key);
  return found.length > size && last ? { apiKeys: keys, nextPageToken: encodePageToken(`${last.cursor}|${last.id}`) } : { apiKeys: keys };
}

/** Creates a key in the organization; the secret is in the result once and never stored. */
function create(db: Transactable, input: { organizationId: string; name: string; scopes: readonly ApiKeyScope[] }): Promise<{ apiKey: ApiKey; key: string }> {
  return withOrg(db, input.organizationId, (tx) => apiKeys.create(tx, input));
}

/**
 * Revokes a key of the organization, idempotently (a revoked key keeps its first revocation time).
 * Undefined when the organization has no key with this id, whoever else may have one.
 */
function revoke(db: Transactable, input: { organizationId: string; id: string }): Promise<ApiKey | undefined> {
  if (!UUID.test(input.id)) return Promise.resolve(undefined);
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(
      `UPDATE api_keys k SET revoked_at = coalesce(k.revoked_at, now()) WHERE k.id = $1 AND k.org_id = $2 RETURNING ${COLUMNS}`,
      [input.id, input.organizationId],
    );
    return parseFirstRow('apiKeyManagement.revoke', apiKeySchema, rows);
  });
}

/** polaris.v1.ApiKeys' reads and writes of `api_keys`, each for one organization. */
export const apiKeyManagement = { list, create, revoke };
