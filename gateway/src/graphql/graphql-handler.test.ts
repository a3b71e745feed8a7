import { describe, expect, it } from 'vitest';
import type { ServiceError } from '@grpc/grpc-js';
import { ApiKeyAuthenticator } from '@polaris/shared/auth';
import type { Backends } from '../backends';
import { createGraphQLHandler } from './graphql-handler';
import { DEFAULT_GRAPHQL_LIMITS, type GraphQLLimits } from './limits';

const ORG = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
type Callback = (err: ServiceError | null, res?: unknown) => void;

/**
 * Backends that answer every call after a few ms and count them by method: what a request costs
 * the services behind the gateway, without a network.
 */
function countingBackends() {
  const calls = { validateApiKey: 0, getOrganization: 0, usageQuery: 0, publish: 0 };
  const later = (callback: Callback, res: unknown) => setTimeout(() => callback(null, res), 2);
  const backends = {
    identity: {
      validateApiKey: (_req: unknown, _md: unknown, _opts: unknown, callback: Callback) => {
        calls.validateApiKey++;
        later(callback, { organization: { id: ORG, slug: 'acme', name: 'Acme', createdAt: new Date(0) }, keyPrefix: 'pol_abcd1234', scopes: ['events:write', 'usage:read'] });
      },
      getOrganization: (_req: unknown, _md: unknown, _opts: unknown, callback: Callback) => {
        calls.getOrganization++;
        later(callback, { id: ORG, slug: 'acme', name: 'Acme', createdAt: new Date(0) });
      },
    },
    usage: {
      queryMeter: (_req: unknown, _md: unknown, _opts: unknown, callback: Callback) => {
        calls.usageQuery++;
        later(callback, { meterSlug: 'a', meterVersionId: '1', aggregation: 'SUM', rows: [], invalidCount: '0', complete: true });
      },
    },
    ingest: {
      publish: (_req: unknown, _md: unknown, _opts: unknown, callback: Callback) => {
        calls.publish++;
        later(callback, { accepted: 1 });
      },
    },
  } as unknown as Backends;
  return { backends, calls };
}

function handlerWith(limits: GraphQLLimits = DEFAULT_GRAPHQL_LIMITS, cacheTtlMs = 30_000) {
  const { backends, calls } = countingBackends();
  const auth = new ApiKeyAuthenticator(backends.identity, cacheTtlMs);
  const handler = createGraphQLHandler({ auth, backends, deadlineMs: 5_000, limits, graphiql: false, logging: false });
  const post = async (query: string, key = 'pol_abcd1234_key') => {
    const res = await handler.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } };
  };
  return { post, calls };
}

const aliasesOf = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
const USAGE = 'usage(metric: "api_calls", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { invalidCount }';

describe('GraphQL limits (defaults)', () => {
  it('a 1,000-alias request is refused before any field runs: no Identity call, no Usage query', async () => {
    const { post, calls } = handlerWith();
    const res = await post(aliasesOf(1_000, USAGE));
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'GRAPHQL_MAX_TOKENS' });
    expect(calls).toEqual({ validateApiKey: 0, getOrganization: 0, usageQuery: 0, publish: 0 });
  });

  it('16 aliases: 400 BAD_USER_INPUT naming GRAPHQL_MAX_ALIASES; 15 pass', async () => {
    const { post, calls } = handlerWith();
    const over = await post(aliasesOf(16, 'me { id }'));
    expect(over.status).toBe(400);
    expect(over.body.errors).toHaveLength(1);
    expect(over.body.errors?.[0]?.message).toMatch(/GRAPHQL_MAX_ALIASES.*15/);
    expect(over.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'GRAPHQL_MAX_ALIASES', max: 15 });
    expect(calls.getOrganization).toBe(0);
    const within = await post(aliasesOf(15, 'me { id }'));
    expect(within.status).toBe(200);
    expect(Object.keys(within.body.data ?? {})).toHaveLength(15);
  });

  it('a deep query: 400 naming GRAPHQL_MAX_DEPTH', async () => {
    const { post } = handlerWith({ ...DEFAULT_GRAPHQL_LIMITS, maxDepth: 2 });
    const res = await post(`{ usage(metric: "a", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { rows { value } } }`);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'GRAPHQL_MAX_DEPTH', max: 2 });
  });

  it('a costly query: 400 naming GRAPHQL_MAX_COST', async () => {
    const { post } = handlerWith({ ...DEFAULT_GRAPHQL_LIMITS, maxCost: 10 });
    const res = await post(aliasesOf(5, 'me { id slug name createdAt }'));
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'GRAPHQL_MAX_COST', max: 10 });
  });

  it('the real queries fit the defaults: every usage field, and `me` with every field', async () => {
    const { post } = handlerWith();
    const res = await post(`{ me { id slug name createdAt } ${aliasesOf(14, 'usage(metric: "a", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", windowSize: HOUR, windowTimeZone: "Europe/Paris", groupBy: ["subject", "model"], subjects: ["a", "b"], filters: [{ dimension: "model", in: ["x"] }]) { metric aggregation periodStart periodEnd total complete rows { windowStart windowEnd subject dimensions value eventCount invalidCount } invalidCount }').slice(1, -1)} }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.status).toBe(200);
  });
});

describe('one API key validation per request', () => {
  it('1,000 aliases (limits raised to allow them) make one Identity validation, even with no key cache', async () => {
    const { post, calls } = handlerWith({ maxAliases: 1_000, maxDepth: 6, maxTokens: 100_000, maxCost: 1_000_000 }, 0);
    const res = await post(aliasesOf(1_000, 'me { id }'));
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data ?? {})).toHaveLength(1_000);
    expect(calls.validateApiKey).toBe(1);
  });

  it('mutations, which run one after another, share one validation too (no key cache)', async () => {
    const { post, calls } = handlerWith(DEFAULT_GRAPHQL_LIMITS, 0);
    const input = (i: number) => `{ id: "e${i}", type: "api.request", subject: "c" }`;
    const res = await post(`mutation { ${Array.from({ length: 10 }, (_, i) => `r${i}: recordEvent(input: ${input(i)}) { accepted }`).join(' ')} }`);
    expect(res.body.errors).toBeUndefined();
    expect(calls.publish).toBe(10);
    expect(calls.validateApiKey).toBe(1);
  });

  it('50 concurrent requests with one new key make one Identity validation', async () => {
    const { post, calls } = handlerWith();
    const answers = await Promise.all(Array.from({ length: 50 }, () => post('{ me { id } }', 'pol_abcd1234_fresh')));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(calls.validateApiKey).toBe(1);
  });
});
