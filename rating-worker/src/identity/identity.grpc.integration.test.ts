import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import {
  callUnary, createInternalAuth, createUnaryWrapper, insecureChannel, internalClientOptions, startGrpcServer, type GrpcServer,
} from '@polaris/shared/grpc';
import { generateApiKey } from '@polaris/shared/auth';
import { apiKeys, createPool, organizationRateLimits, organizations, type Pool } from '@polaris/postgres';
import { localAppUrl } from '@polaris/postgres/migrate';
import { makeClientConstructor } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { IdentityClient } from '@polaris/proto';
import { identityService } from './identity.grpc';
import { rejection } from '../test-support/rejection';

const logger = createLogger('it-identity', 'silent');
const secret = { INTERNAL_AUTH_SECRET: randomBytes(32).toString('base64') };

describe('Identity gRPC over PostgreSQL', () => {
  let pool: Pool;
  let appPool: Pool;
  let server: GrpcServer;
  let client: InstanceType<typeof IdentityClient>;
  const orgs: Array<{ id: string; key: string; keyId: string }> = [];
  const created: string[] = [];

  /** An organization with one key of its own, so no test depends on what another did. */
  async function orgWithKey(): Promise<{ id: string; key: string; keyId: string }> {
    const slug = `it-${randomUUID().slice(0, 8)}`;
    const org = await organizations.create(pool, { name: slug, slug });
    created.push(org.id);
    const { apiKey, key } = await apiKeys.create(pool, { organizationId: org.id, name: 'it', scopes: ['usage:read'] });
    return { id: org.id, key, keyId: apiKey.id };
  }

  beforeAll(async () => {
    pool = createPool({ DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://polaris:polaris@127.0.0.1:55432/polaris', DATABASE_POOL_MAX: 2 }, 'it');
    // The service's own connection: the app role, under row-level security (fixtures use the owner's).
    appPool = createPool({ DATABASE_URL: localAppUrl(process.env.DATABASE_URL ?? 'postgres://polaris:polaris@127.0.0.1:55432/polaris'), DATABASE_POOL_MAX: 2 }, 'it-app');
    for (let i = 0; i < 2; i++) orgs.push(await orgWithKey());
    const unary = createUnaryWrapper(logger, createMetricsRegistry('it'));
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [identityService(appPool, unary)], auth: createInternalAuth(secret, 'rating-worker'), logger });
    client = new IdentityClient(`127.0.0.1:${server.port}`, insecureChannel, internalClientOptions(createInternalAuth(secret, 'gateway')));
  });

  afterAll(async () => {
    client?.close();
    await server?.stop(1_000);
    // Keys go with their organization (ON DELETE CASCADE).
    if (created.length > 0) await pool?.query('DELETE FROM organizations WHERE id = ANY($1::uuid[])', [created]);
    await pool?.end();
    await appPool?.end();
  });

  const validate = (apiKey: string) => callUnary('identity', client.validateApiKey.bind(client), { apiKey }, 5_000);

  it('resolves a key to its own organization and scopes, never another', async () => {
    for (const org of orgs) {
      const res = await validate(org.key);
      expect(res.organization?.id).toBe(org.id);
      expect(res.scopes).toEqual(['usage:read']);
      expect(res.keyId).toBe(org.keyId);
    }
  });

  it('answers UNAUTHENTICATED invalid_api_key alike for malformed, unknown and revoked keys', async () => {
    const live = await orgWithKey();
    const revoked = await orgWithKey();
    const unknown = generateApiKey().key;
    const flipped = `${live.key.slice(0, -1)}${live.key.endsWith('a') ? 'b' : 'a'}`;
    await apiKeys.revoke(pool, revoked.keyId);
    expect((await validate(live.key)).organization?.id).toBe(live.id);
    for (const key of ['', 'garbage', `${live.key} `, unknown, flipped, revoked.key]) {
      const err = await rejection(validate(key));
      expect(err).toMatchObject({ kind: 'unauthenticated', code: 'invalid_api_key' });
    }
  });

  it("returns the organization's own event rate limit with its keys, and none once it is cleared", async () => {
    const org = await orgWithKey();
    expect((await validate(org.key)).eventRateLimit).toBeUndefined();
    await organizationRateLimits.set(pool, org.id, { eventsPerSecond: 250, burst: 1_000 });
    expect((await validate(org.key)).eventRateLimit).toEqual({ eventsPerSecond: 250, burst: 1_000 });
    expect((await validate(orgs[0]?.key ?? '')).eventRateLimit).toBeUndefined();
    await organizationRateLimits.clear(pool, org.id);
    expect((await validate(org.key)).eventRateLimit).toBeUndefined();
  });

  it('names the field of a malformed organization id', async () => {
    const err = await rejection(callUnary('identity', client.getOrganization.bind(client), { organizationId: "x' OR 1=1" }, 5_000));
    expect(err).toMatchObject({ kind: 'invalid_argument', code: 'invalid_organization_id', field: 'organization_id' });
    const unknownOrg = randomUUID();
    const missing = await rejection(callUnary('identity', client.getOrganization.bind(client), { organizationId: unknownOrg }, 5_000, { actingFor: unknownOrg }));
    expect(missing).toMatchObject({ kind: 'not_found', code: 'organization_not_found' });
  });

  it('answers GetOrganization only for the organization the caller acts for', async () => {
    const [mine, theirs] = orgs.map((o) => o.id);
    const getOrganization = (organizationId: string | undefined, actingFor?: string) =>
      callUnary('identity', client.getOrganization.bind(client), { organizationId: organizationId ?? '' }, 5_000, { actingFor });
    expect((await getOrganization(mine, mine)).id).toBe(mine);
    // The refusal is the deployment's fault, so the caller reports it as internal, keeping the code.
    expect(await rejection(getOrganization(theirs, mine))).toMatchObject({ kind: 'internal', code: 'organization_mismatch' });
    expect(await rejection(getOrganization(theirs))).toMatchObject({ kind: 'internal', code: 'organization_mismatch' });
  });

  it('serves grpc.health.v1 for the whole server and for polaris.v1.Identity', async () => {
    const HealthClient = makeClientConstructor(healthService, 'grpc.health.v1.Health');
    const health = new HealthClient(`127.0.0.1:${server.port}`, insecureChannel) as unknown as {
      check(req: { service: string }, cb: (err: Error | null, res: { status: string }) => void): void;
      close(): void;
    };
    for (const service of ['', 'polaris.v1.Identity']) {
      const res = await new Promise<{ status: string }>((resolve, reject) =>
        health.check({ service }, (err, r) => (err ? reject(err) : resolve(r))),
      );
      expect(res.status).toBe('SERVING');
    }
    health.close();
  });
});
