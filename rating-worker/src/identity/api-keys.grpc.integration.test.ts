import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import {
  callUnary, createInternalAuth, createUnaryWrapper, insecureChannel, internalClientOptions, startGrpcServer, type GrpcServer,
} from '@polaris/shared/grpc';
import { hashApiKey } from '@polaris/shared/auth';
import { apiKeys, createPool, organizations, type Pool } from '@polaris/postgres';
import { ApiKeysClient } from '@polaris/proto';
import { apiKeysService } from './api-keys.grpc';
import { rejection } from '../test-support/rejection';

const logger = createLogger('it-api-keys', 'silent');
const secret = { INTERNAL_AUTH_SECRET: randomBytes(32).toString('base64') };
const ADMIN = ['admin', 'usage:read', 'events:write'];

describe('ApiKeys gRPC over PostgreSQL', () => {
  let pool: Pool;
  let server: GrpcServer;
  let client: InstanceType<typeof ApiKeysClient>;
  const created: string[] = [];

  async function newOrg(): Promise<string> {
    const slug = `it-${randomUUID().slice(0, 8)}`;
    const org = await organizations.create(pool, { name: slug, slug });
    created.push(org.id);
    return org.id;
  }

  beforeAll(async () => {
    pool = createPool({ DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://polaris:polaris@127.0.0.1:55432/polaris', DATABASE_POOL_MAX: 2 }, 'it');
    const unary = createUnaryWrapper(logger, createMetricsRegistry('it'));
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [apiKeysService(pool, unary)], auth: createInternalAuth(secret, 'rating-worker'), logger });
    client = new ApiKeysClient(`127.0.0.1:${server.port}`, insecureChannel, internalClientOptions(createInternalAuth(secret, 'gateway')));
  });

  afterAll(async () => {
    client?.close();
    await server?.stop(1_000);
    if (created.length > 0) await pool?.query('DELETE FROM organizations WHERE id = ANY($1::uuid[])', [created]);
    await pool?.end();
  });

  const list = (org: string, pageSize = 0, pageToken = '') =>
    callUnary('apiKeys', client.listApiKeys.bind(client), { organizationId: org, pageSize, pageToken }, 5_000, { actingFor: org });
  const create = (org: string, scopes: string[], callerScopes = ADMIN, name = 'dashboard') =>
    callUnary('apiKeys', client.createApiKey.bind(client), { organizationId: org, name, scopes, callerScopes }, 5_000, { actingFor: org });
  const revoke = (org: string, id: string, callerScopes = ADMIN) =>
    callUnary('apiKeys', client.revokeApiKey.bind(client), { organizationId: org, id, callerScopes }, 5_000, { actingFor: org });

  it('creates a key whose secret is shown once and is the one stored (sha256), then lists it without it', async () => {
    const org = await newOrg();
    const made = await create(org, ['usage:read']);
    expect(made.secret).toMatch(/^pol_[a-z0-9]{8}_[A-Za-z0-9]{32}$/);
    expect(made.apiKey).toMatchObject({ name: 'dashboard', scopes: ['usage:read'], prefix: made.secret.slice(0, 12) });
    expect(made.apiKey?.revokedAt).toBeUndefined();
    // The CLI's repository finds it by its hash: one kind of key, whoever made it.
    const found = await apiKeys.findActiveByHash(pool, hashApiKey(made.secret));
    expect(found?.apiKey.id).toBe(made.apiKey?.id);
    const listed = await list(org);
    expect(listed.apiKeys.map((k) => k.id)).toEqual([made.apiKey?.id]);
    expect(JSON.stringify(listed)).not.toContain(made.secret);
  });

  it('pages with a cursor, oldest first, every key once', async () => {
    const org = await newOrg();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(org, ['usage:read'], ADMIN, `k${i}`)).apiKey?.id ?? '');
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await list(org, 2, token);
      seen.push(...page.apiKeys.map((k) => k.id));
      token = page.nextPageToken;
      pages++;
    } while (token !== '');
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
    expect(await rejection(list(org, 2, 'bm9wZQ'))).toMatchObject({ kind: 'invalid_argument', code: 'invalid_page_token', field: 'page_token' });
  });

  it('needs admin, refuses unknown scopes naming scopes[i], and scopes the caller lacks', async () => {
    const org = await newOrg();
    expect(await rejection(create(org, ['usage:read'], ['usage:read']))).toMatchObject({ kind: 'permission_denied', code: 'missing_scope' });
    expect(await rejection(create(org, ['usage:read', 'everything']))).toMatchObject({ kind: 'invalid_argument', code: 'unknown_scope', field: 'scopes[1]' });
    expect(await rejection(create(org, ['billing:write']))).toMatchObject({ kind: 'permission_denied', code: 'scope_not_held', field: 'scopes[0]' });
    expect(await rejection(create(org, ['usage:read'], ADMIN, '  '))).toMatchObject({ kind: 'invalid_argument', field: 'name' });
    expect((await list(org)).apiKeys).toEqual([]);
  });

  it('revokes idempotently, keeping the first time', async () => {
    const org = await newOrg();
    const made = await create(org, ['usage:read']);
    const id = made.apiKey?.id ?? '';
    expect(await rejection(revoke(org, id, ['usage:read']))).toMatchObject({ kind: 'permission_denied', code: 'missing_scope' });
    const first = await revoke(org, id);
    expect(first.revokedAt).toBeInstanceOf(Date);
    const again = await revoke(org, id);
    expect(again.revokedAt?.getTime()).toBe(first.revokedAt?.getTime());
    expect(await apiKeys.findActiveByHash(pool, hashApiKey(made.secret))).toBeUndefined();
  });

  it("keeps organizations apart: B neither lists nor revokes A's keys, nor names A's organization", async () => {
    const a = await newOrg();
    const b = await newOrg();
    const mine = await create(b, ['usage:read']);
    const theirs = await create(a, ['usage:read']);
    const theirId = theirs.apiKey?.id ?? '';
    expect((await list(b)).apiKeys.map((k) => k.id)).toEqual([mine.apiKey?.id]);
    // A's key id, asked for by B: the same answer as a key that does not exist.
    expect(await rejection(revoke(b, theirId))).toMatchObject({ kind: 'not_found', code: 'api_key_not_found', field: 'id' });
    expect(await rejection(revoke(b, randomUUID()))).toMatchObject({ kind: 'not_found', code: 'api_key_not_found' });
    expect(await rejection(revoke(b, 'not-a-uuid'))).toMatchObject({ kind: 'not_found' });
    expect(await apiKeys.findActiveByHash(pool, hashApiKey(theirs.secret))).toBeDefined();
    // B's token naming A's organization is refused before any handler runs.
    const crossed = callUnary('apiKeys', client.listApiKeys.bind(client), { organizationId: a, pageSize: 0, pageToken: '' }, 5_000, { actingFor: b });
    expect(await rejection(crossed)).toMatchObject({ code: 'organization_mismatch' });
  });
});
