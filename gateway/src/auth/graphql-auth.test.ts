import { describe, expect, it } from 'vitest';
import { ApiKeyAuthenticator } from '@polaris/shared/auth';
import type { Backends } from '../backends';
import { createGraphQLHandler } from '../graphql/graphql-handler';
import { DEFAULT_GRAPHQL_LIMITS } from '../graphql/limits';
import { DashboardTokenIssuer } from './dashboard-tokens';
import type { GatewayAuth } from './gateway-auth';
import { GatewayAuthenticator } from './gateway-authenticator';
import { OrganizationCheck } from './organization-check';
import { RequestRateLimited } from './organization-rate-limiter';
import { TokenVerifier } from './token-verifier';

// The credentials and the rate limit as a GraphQL client meets them, over a fake Identity.

const ORG = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const GONE_ORG = '00000000-0000-4000-8000-000000000000';
const KEY = 'pol_abcd1234_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef';
const SECRET = 'a-test-secret-of-at-least-32-bytes-long';
const jwt = { issuer: 'polaris', audience: 'polaris-graphql' };
const organization = { id: ORG, slug: 'acme', name: 'Acme', createdAt: new Date(0) };

type Callback = (err: unknown, res?: unknown) => void;
const notFound = () => Object.assign(new Error('organization not found'), { code: 5, details: 'organization not found', metadata: { get: (k: string) => (k === 'polaris-error-code' ? ['organization_not_found'] : []) } });

function gateway(opts: { signing?: boolean; limited?: number } = {}) {
  const identity = {
    validateApiKey: (_req: unknown, _md: unknown, _o: unknown, cb: Callback) => setImmediate(() => cb(null, { organization, keyId: 'k-1', keyPrefix: 'pol_abcd1234', scopes: ['usage:read', 'admin'] })),
    getOrganization: (req: { organizationId: string }, _md: unknown, _o: unknown, cb: Callback) =>
      setImmediate(() => (req.organizationId === ORG ? cb(null, organization) : cb(notFound()))),
  };
  const backends = { identity } as unknown as Backends;
  const consumed: string[] = [];
  const auth: GatewayAuth = {
    authenticator: new GatewayAuthenticator({
      apiKeys: new ApiKeyAuthenticator(backends.identity, 30_000),
      tokens: new TokenVerifier({ ...jwt, hs256Secret: SECRET, clockToleranceSeconds: 30 }),
      organizations: new OrganizationCheck(backends.identity, 30_000),
    }),
    rateLimiter: {
      consume: async (org) => {
        consumed.push(org);
        if (opts.limited !== undefined && consumed.length > opts.limited) throw new RequestRateLimited(1_500, { perSecond: 1, burst: 1 });
      },
    },
    ...(opts.signing === false ? {} : { dashboardTokens: new DashboardTokenIssuer({ ...jwt, hs256Secret: SECRET, ttlSeconds: 900 }) }),
  };
  const handler = createGraphQLHandler({ auth, backends, deadlineMs: 5_000, limits: DEFAULT_GRAPHQL_LIMITS, graphiql: false, logging: false });
  const post = async (query: string, authorization: string) => {
    const res = await handler.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as { data?: Record<string, { token?: string; id?: string }> | null; errors?: Array<{ extensions: Record<string, unknown> }> } };
  };
  return { post, consumed };
}

const EXCHANGE = 'mutation { createDashboardToken { token expiresAt scopes } }';

describe('credentials and limits in GraphQL', () => {
  it('exchanges an API key for a token that then answers me for the same organization', async () => {
    const { post } = gateway();
    const exchanged = await post(EXCHANGE, `Bearer ${KEY}`);
    expect(exchanged.status).toBe(200);
    const token = exchanged.body.data?.createDashboardToken?.token ?? '';
    expect(exchanged.body.data?.createDashboardToken).toMatchObject({ scopes: ['usage:read', 'admin'] });
    const me = await post('{ me { id } organization { id } }', `Bearer ${token}`);
    expect(me.body.data).toEqual({ me: { id: ORG }, organization: { id: ORG } });
  });

  it('refuses to exchange a token for another one, and says so when signing is not configured', async () => {
    const { post } = gateway();
    const token = (await post(EXCHANGE, `Bearer ${KEY}`)).body.data?.createDashboardToken?.token ?? '';
    const again = await post(EXCHANGE, `Bearer ${token}`);
    expect(again.status).toBe(403);
    expect(again.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'api_key_required' });
    const unsigned = await gateway({ signing: false }).post(EXCHANGE, `Bearer ${KEY}`);
    expect(unsigned.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'token_signing_not_configured' });
  });

  it('answers a forged token and a token of an organization that does not exist with 401 and a reason, never 500', async () => {
    const { post } = gateway();
    const forged = await new DashboardTokenIssuer({ ...jwt, hs256Secret: 'another-secret-of-at-least-32-bytes!!', ttlSeconds: 900 }).issue({ organizationId: ORG, keyId: 'k', scopes: ['admin'] });
    const refused = await post('{ me { id } }', `Bearer ${forged.token}`);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid_token_signature' });
    const gone = await new DashboardTokenIssuer({ ...jwt, hs256Secret: SECRET, ttlSeconds: 900 }).issue({ organizationId: GONE_ORG, keyId: 'k', scopes: ['admin'] });
    const unknown = await post('{ me { id } }', `Bearer ${gone.token}`);
    expect(unknown.status).toBe(401);
    expect(unknown.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'unknown_organization' });
  });

  it('counts a request once, however many fields; over the limit: 429, RATE_LIMITED, retryAfterMs and Retry-After', async () => {
    const { post, consumed } = gateway({ limited: 1 });
    await post('{ me { id } organization { id } }', `Bearer ${KEY}`);
    expect(consumed).toEqual([ORG]);
    const limited = await post('{ me { id } organization { id } }', `Bearer ${KEY}`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.body.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', reason: 'rate_limited', retryAfterMs: 1_500 });
  });
});
