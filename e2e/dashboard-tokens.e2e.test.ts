import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { E2E_PORTS } from './support/ports';
import { freePort, startPrivate } from './support/private-services';
import type { Tenant } from './support/tenants';
import { throwawayPostgres, type ThrowawayPostgres } from './support/throwaway-postgres';

/**
 * README, "Authentication" and "Rate limits": a gateway of its own (its own JWT secret and a low
 * per-organization request limit, counted in the local stack's Redis), in front of a rating-worker
 * of its own on a database of the test's own (Identity and ApiKeys), so the suite's services and
 * their settings are left alone. An API key is exchanged for a dashboard token,
 * the token answers `me` and manages keys through polaris.v1.ApiKeys; forged, expired and
 * misaddressed tokens are refused with their reasons; too many requests get 429 RATE_LIMITED.
 */

const SECRET = randomBytes(32).toString('base64');
const PER_SECOND = 10;
const BURST = 20;

let system: RunningSystem | undefined;
let pgdb: ThrowawayPostgres;
let url: string;
let admin: Tenant;
let other: Tenant;

interface Answer {
  status: number;
  retryAfter: string | null;
  data?: Record<string, Record<string, unknown>> | null;
  errors?: Array<{ message: string; extensions: Record<string, unknown> }>;
}

async function gql(credential: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await res.json()) as Omit<Answer, 'status' | 'retryAfter'>;
  return { status: res.status, retryAfter: res.headers.get('retry-after'), ...body };
}

const EXCHANGE = 'mutation { createDashboardToken { token expiresAt scopes } }';
const ME = '{ me { id } organization { id slug } }';

/** A token as the gateway would issue it, with claims of the test's choosing. */
function token(org: string, opts: { secret?: string; audience?: string; expiresIn?: number } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ org_id: org, scope: 'usage:read admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('polaris')
    .setAudience(opts.audience ?? 'polaris-graphql')
    .setIssuedAt(now - 3_600)
    .setExpirationTime(now + (opts.expiresIn ?? 600))
    .sign(new TextEncoder().encode(opts.secret ?? SECRET));
}

/** An organization of the private database, with one key of these scopes. */
async function createTenant(scopes: Parameters<ThrowawayPostgres['createApiKey']>[1]): Promise<Tenant> {
  const { orgId } = await pgdb.createTenant();
  return { orgId, apiKey: await pgdb.createApiKey(orgId, scopes) };
}

beforeAll(async () => {
  pgdb = await throwawayPostgres();
  admin = await createTenant(['usage:read', 'admin']);
  other = await createTenant(['usage:read', 'admin']);
  const httpPort = await freePort();
  const identityPort = await freePort();
  url = `http://127.0.0.1:${httpPort}/graphql`;
  const loop = (p: number) => `127.0.0.1:${p}`;
  system = await startPrivate('dashboard-tokens', [
    { name: 'rating-worker', opsPort: await freePort(), env: { DATABASE_URL: pgdb.appUrl, GRPC_PORT: String(identityPort), RATING_ENABLED: 'false' } },
    {
      name: 'gateway',
      opsPort: await freePort(),
      env: {
        HTTP_PORT: String(httpPort),
        IDENTITY_GRPC_ADDR: loop(identityPort),
        METERS_GRPC_ADDR: loop(identityPort),
        // Not used here; the suite's, so the gateway's readiness has them.
        USAGE_GRPC_ADDR: loop(E2E_PORTS.usageGrpc),
        INGEST_GRPC_ADDR: loop(E2E_PORTS.ingestGrpc),
        JWT_HS256_SECRET: SECRET,
        GATEWAY_RATE_LIMIT_PER_SECOND: String(PER_SECOND),
        GATEWAY_RATE_LIMIT_BURST: String(BURST),
      },
    },
  ]);
}, 90_000);

afterAll(async () => {
  await system?.stop();
  await pgdb?.drop();
});

describe('dashboard tokens through the real gateway', () => {
  it('exchanges an API key for a token that answers me for the same organization', async () => {
    const exchanged = await gql(admin.apiKey, EXCHANGE);
    expect(exchanged.errors).toBeUndefined();
    const issued = exchanged.data?.createDashboardToken as { token: string; expiresAt: string; scopes: string[] };
    expect(issued.scopes).toEqual(['usage:read', 'admin']);
    const lifetime = Date.parse(issued.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(800_000);
    expect(lifetime).toBeLessThanOrEqual(900_000);
    const me = await gql(issued.token, ME);
    expect(me.errors).toBeUndefined();
    expect(me.data?.me?.id).toBe(admin.orgId);
    expect(me.data?.organization?.id).toBe(admin.orgId);
    // A token does not renew itself.
    const again = await gql(issued.token, EXCHANGE);
    expect(again.status).toBe(403);
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'api_key_required' });
  });

  it('refuses expired, forged and misaddressed tokens with 401 and a reason', async () => {
    const cases: Array<[Promise<string>, string]> = [
      [token(admin.orgId, { expiresIn: -120 }), 'token_expired'],
      [token(admin.orgId, { secret: randomBytes(32).toString('base64') }), 'invalid_token_signature'],
      [token(admin.orgId, { audience: 'another-api' }), 'wrong_token_audience'],
      [token('00000000-0000-4000-8000-000000000000'), 'unknown_organization'],
    ];
    for (const [made, reason] of cases) {
      const refused = await gql(await made, ME);
      expect(refused.status, reason).toBe(401);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
      expect(refused.data ?? null).toBeNull();
    }
  });

  it('manages API keys with a token: create (secret once), list, revoke; another organization cannot touch them', async () => {
    const dashboard = await token(admin.orgId);
    const created = await gql(dashboard, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id prefix scopes revokedAt } } }', {
      input: { name: 'from the dashboard', scopes: ['usage:read'] },
    });
    expect(created.errors).toBeUndefined();
    const { secret, apiKey } = created.data?.createApiKey as { secret: string; apiKey: { id: string; prefix: string; scopes: string[]; revokedAt: null } };
    expect(secret.startsWith(`${apiKey.prefix}_`)).toBe(true);
    // The new key works at once, for its own organization.
    expect((await gql(secret, ME)).data?.me?.id).toBe(admin.orgId);

    const listed = await gql(dashboard, '{ apiKeys(first: 1) { nodes { id name prefix } endCursor hasNextPage } }');
    expect(listed.data?.apiKeys).toMatchObject({ hasNextPage: true });
    const rest = await gql(dashboard, 'query($after: String) { apiKeys(first: 50, after: $after) { nodes { id } hasNextPage } }', { after: listed.data?.apiKeys?.endCursor });
    expect((rest.data?.apiKeys?.nodes as Array<{ id: string }>).map((k) => k.id)).toContain(apiKey.id);
    expect(JSON.stringify([listed, rest])).not.toContain(secret);

    const unknownScope = await gql(dashboard, 'mutation { createApiKey(input: { name: "x", scopes: ["usage:read", "root"] }) { secret } }');
    expect(unknownScope.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.scopes[1]' });
    const stronger = await gql(dashboard, 'mutation { createApiKey(input: { name: "x", scopes: ["billing:write"] }) { secret } }');
    expect(stronger.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'scope_not_held' });

    const revoke = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }';
    const theirs = await gql(other.apiKey, revoke, { id: apiKey.id });
    expect(theirs.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'api_key_not_found' });
    const theirList = await gql(other.apiKey, '{ apiKeys { nodes { id } } }');
    expect(JSON.stringify(theirList.data)).not.toContain(apiKey.id);
    const revoked = await gql(dashboard, revoke, { id: apiKey.id });
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data?.revokeApiKey?.revokedAt).toEqual(expect.any(String));
  });

  it('answers a burst over the organization limit with 429 RATE_LIMITED and a retry hint; other organizations pass', async () => {
    const flooder = await createTenant(['usage:read']);
    const answers = await Promise.all(Array.from({ length: BURST * 2 }, () => gql(flooder.apiKey, '{ me { id } }')));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(BURST - PER_SECOND);
    expect(answers.filter((a) => a.status === 200).length).toBeLessThanOrEqual(BURST * 2 - limited.length);
    const one = limited[0];
    expect(one?.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'rate_limited', retryAfterMs: expect.any(Number) });
    expect(Number(one?.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(one?.errors?.[0]?.extensions).not.toHaveProperty('http');
    // Another organization has its own count.
    expect((await gql(other.apiKey, '{ me { id } }')).status).toBe(200);
  });
});
