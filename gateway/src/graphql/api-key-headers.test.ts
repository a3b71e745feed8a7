import { describe, expect, it } from 'vitest';
import type { ServiceError } from '@grpc/grpc-js';
import { ApiKeyAuthenticator } from '@polaris/shared/auth';
import type { Backends } from '../backends';
import { createGraphQLHandler } from './graphql-handler';
import { DEFAULT_GRAPHQL_LIMITS } from './limits';

const ORG = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
type Callback = (err: ServiceError | null, res?: unknown) => void;

/** Identity that accepts any key and remembers which ones it was asked about. */
function handler() {
  const asked: string[] = [];
  const backends = {
    identity: {
      validateApiKey: (req: { apiKey: string }, _md: unknown, _opts: unknown, callback: Callback) => {
        asked.push(req.apiKey);
        setImmediate(() => callback(null, { organization: { id: ORG, slug: 'acme', name: 'Acme', createdAt: new Date(0) }, keyPrefix: 'pol_abcd1234', scopes: ['usage:read'] }));
      },
      getOrganization: (_req: unknown, _md: unknown, _opts: unknown, callback: Callback) =>
        setImmediate(() => callback(null, { id: ORG, slug: 'acme', name: 'Acme', createdAt: new Date(0) })),
    },
  } as unknown as Backends;
  const yoga = createGraphQLHandler({ auth: new ApiKeyAuthenticator(backends.identity, 30_000), backends, deadlineMs: 5_000, limits: DEFAULT_GRAPHQL_LIMITS, graphiql: false, logging: false });
  const me = async (headers: Record<string, string>) => {
    const res = await yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    return { status: res.status, body: (await res.json()) as { data?: { me?: { id: string } }; errors?: Array<{ extensions?: { code?: string; reason?: string }; message: string }> } };
  };
  return { me, asked };
}

describe('the gateway takes the API key as Authorization: Bearer or X-API-Key', () => {
  it('X-API-Key alone, Bearer alone, and both with the same key all authenticate that key', async () => {
    const { me, asked } = handler();
    const headerSets: Array<Record<string, string>> = [{ 'x-api-key': 'pol_aaaaaaaa_x' }, { authorization: 'Bearer pol_bbbbbbbb_x' }, { authorization: 'Bearer pol_cccccccc_x', 'x-api-key': 'pol_cccccccc_x' }];
    for (const headers of headerSets) {
      const res = await me(headers);
      expect(res.body.data?.me?.id).toBe(ORG);
    }
    expect(asked).toEqual(['pol_aaaaaaaa_x', 'pol_bbbbbbbb_x', 'pol_cccccccc_x']);
  });

  it('two different keys: 401 conflicting_api_keys, as the collector answers, and Identity is not asked', async () => {
    const { me, asked } = handler();
    const res = await me({ authorization: 'Bearer pol_aaaaaaaa_x', 'x-api-key': 'pol_bbbbbbbb_x' });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'conflicting_api_keys' });
    expect(asked).toEqual([]);
  });

  it('no key: 401 missing_api_key, naming both headers', async () => {
    const { me } = handler();
    const res = await me({});
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED', reason: 'missing_api_key' }, message: expect.stringMatching(/X-API-Key/) });
  });
});
