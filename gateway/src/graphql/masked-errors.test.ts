import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ApiKeyAuthenticator } from '@polaris/shared/auth';
import type { Backends } from '../backends';
import { createGraphQLHandler } from './graphql-handler';
import { DEFAULT_GRAPHQL_LIMITS } from './limits';

// Issue 13: with the rating-worker down, a client got `identity service is unavailable: Name
// resolution failed for target dns:///rating-worker-grpc.polaris.svc.cluster.local:50053`: the
// cluster's service names and ports, in a public API. Now the client gets the code, a generic
// message and a request id; the detail goes to the log under that id.

const ORG = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
type Callback = (err: ServiceError | null, res?: unknown) => void;
const DETAIL = 'Name resolution failed for target dns:///rating-worker-grpc.polaris.svc.cluster.local:50053';

function serviceError(code: status, details: string, polaris?: { code: string; field: string }): ServiceError {
  const metadata = new Metadata();
  // How a Polaris server sends a PolarisError's code and field (shared/src/grpc/status.ts).
  if (polaris) {
    metadata.set('polaris-error-code', polaris.code);
    metadata.set('polaris-error-field', polaris.field);
  }
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

function gateway(identityDown: boolean) {
  // The service's logger, as Yoga calls it (main.ts passes pino's).
  const logged: unknown[][] = [];
  const log = (...args: unknown[]) => logged.push(args);
  const logger = { error: log, warn: log, info: () => undefined, debug: () => undefined };
  /** What was logged with this request id: once, with the detail. */
  const loggedWith = (requestId: unknown) => logged.filter((args) => args.some((a) => (a as { requestId?: unknown } | null)?.requestId === requestId));
  const backends = {
    identity: {
      validateApiKey: (_req: unknown, _md: unknown, _opts: unknown, callback: Callback) =>
        identityDown
          ? callback(serviceError(status.UNAVAILABLE, DETAIL))
          : callback(null, { organization: { id: ORG, slug: 'acme', name: 'Acme', createdAt: new Date(0) }, keyPrefix: 'pol_abcd1234', scopes: ['events:write', 'usage:read'] }),
    },
    usage: {
      queryMeter: (req: { meterSlug: string }, _md: unknown, _opts: unknown, callback: Callback) =>
        callback(
          req.meterSlug === 'refused'
            ? serviceError(status.INVALID_ARGUMENT, 'to must be after from', { code: 'invalid_range', field: 'to' })
            : serviceError(status.INTERNAL, 'Received RST_STREAM with code 2 (remote_addr=10.0.3.7:50052)'),
        ),
    },
    ingest: {},
  } as unknown as Backends;
  const auth = new ApiKeyAuthenticator(backends.identity, 0);
  const handler = createGraphQLHandler({ auth, backends, deadlineMs: 5_000, limits: DEFAULT_GRAPHQL_LIMITS, graphiql: false, logging: logger });
  const post = async (query: string) => {
    const res = await handler.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: 'Bearer pol_abcd1234_key' },
      body: JSON.stringify({ query }),
    });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } };
  };
  return { post, loggedWith };
}

describe('GraphQL errors from an outage or a bug', () => {
  it('identity down: 503 identity_unavailable with a request id, the DNS name only in the log', async () => {
    const { post, loggedWith } = gateway(true);
    const res = await post('{ me { id } }');
    expect(res.status).toBe(503);
    expect(res.text).not.toMatch(/dns:|rating-worker|50053|Name resolution/);
    const [error] = res.body.errors ?? [];
    expect(error?.message).toMatch(/unavailable.*retry/);
    expect(error?.extensions).toMatchObject({ code: 'INTERNAL', reason: 'identity_unavailable', requestId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const entries = loggedWith(error?.extensions?.requestId);
    expect(entries).toHaveLength(1);
    expect(String((entries[0]?.[0] as Error).message)).toContain(DETAIL);
  });

  it('a backend\'s internal error: "internal error" and a request id, never its peer address', async () => {
    const { post, loggedWith } = gateway(false);
    const res = await post('{ usage(metric: "x", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { rows { value } } }');
    expect(res.text).not.toMatch(/remote_addr|10\.0\.3\.7|RST_STREAM/);
    const [error] = res.body.errors ?? [];
    expect(error?.message).toBe('internal error');
    expect(error?.extensions).toMatchObject({ code: 'INTERNAL', reason: 'internal', requestId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(loggedWith(error?.extensions?.requestId)).toHaveLength(1);
  });

  it('a client error keeps its message and field', async () => {
    const { post } = gateway(false);
    const res = await post('{ usage(metric: "refused", from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z") { rows { value } } }');
    expect(res.status).toBe(400);
    const [error] = res.body.errors ?? [];
    expect(error?.message).toBe('to must be after from');
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'invalid_range', field: 'to' });
    expect(error?.extensions?.requestId).toBeUndefined();
  });

  it('a document error (unknown field) passes as graphql-js words it, as BAD_USER_INPUT', async () => {
    const { post } = gateway(false);
    const res = await post('{ nope }');
    expect(res.status).toBe(400);
    const [error] = res.body.errors ?? [];
    expect(error?.message).toMatch(/Cannot query field "nope"/);
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'graphql_validation_failed' });
    expect(error?.extensions?.requestId).toBeUndefined();
  });
});
