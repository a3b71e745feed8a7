import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ApiKeyAuthenticator } from '@polaris/shared/auth';
import type { Backends } from '../backends';
import { createGraphQLHandler, type GraphQLHandlerOptions } from '../graphql/graphql-handler';
import { DEFAULT_GRAPHQL_LIMITS } from '../graphql/limits';

// For the gateway's unit tests: backends made of plain functions, answering after a tick and
// counting every call by `service.method`, so a test sees what one GraphQL request costs the
// services behind the gateway, and what it sent them, without a network.

export const ORG = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
export const KEY_ID = '0b7e3f52-9d4c-4a8e-8f0e-6a1d2c3b4a59';

/** A method's answer to a request; it throws a Refusal to refuse. */
export type FakeMethod = (request: Record<string, unknown>) => unknown;

/** A refusal a fake method throws: the gateway receives it as a Polaris server sends one (code and field in trailing metadata). */
export class Refusal extends Error {
  constructor(
    readonly grpcStatus: status,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function serviceError(refusal: Refusal): ServiceError {
  const metadata = new Metadata();
  metadata.set('polaris-error-code', refusal.code);
  if (refusal.field) metadata.set('polaris-error-field', refusal.field);
  return Object.assign(new Error(refusal.message), { code: refusal.grpcStatus, details: refusal.message, metadata });
}

type Callback = (err: ServiceError | null, res?: unknown) => void;

export interface FakeSystem {
  /** POSTs a GraphQL request with the key as X-API-Key. */
  post(query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: GraphQLBody }>;
  /** Calls made so far, by `service.method`. */
  calls: Map<string, number>;
  /** The requests each method received, in order. */
  requests: Map<string, Array<Record<string, unknown>>>;
  /** The gateway's handler itself, for requests `post` does not make (GET, other headers). */
  handler: ReturnType<typeof createGraphQLHandler>;
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

/**
 * A gateway over fake backends: `methods` by `service.method` (`invoices.listInvoices`), `*` for any
 * other; Identity accepts any key with `scopes`. A method not given answers UNIMPLEMENTED.
 */
export function fakeSystem(
  scopes: string[],
  methods: Record<string, FakeMethod>,
  options: Partial<Pick<GraphQLHandlerOptions, 'graphiql' | 'introspection' | 'limits'>> = {},
): FakeSystem {
  const calls = new Map<string, number>();
  const requests = new Map<string, Array<Record<string, unknown>>>();
  const all: Record<string, FakeMethod> = {
    'identity.validateApiKey': () => ({ organization: { id: ORG, slug: 'acme', name: 'Acme', createdAt: new Date(0) }, keyId: KEY_ID, keyPrefix: 'pol_abcd1234', scopes }),
    'identity.getOrganization': () => ({ id: ORG, slug: 'acme', name: 'Acme', createdAt: new Date(0) }),
    ...methods,
  };
  // Every service of Backends, present and future: each method of each is faked the same way.
  const service = (name: string) =>
    new Proxy(
      {},
      {
        get: (_target, method: string) => (request: Record<string, unknown>, _md: unknown, _opts: unknown, callback: Callback) => {
          const key = `${name}.${method}`;
          calls.set(key, (calls.get(key) ?? 0) + 1);
          requests.set(key, [...(requests.get(key) ?? []), request]);
          const handler = all[key] ?? all['*'];
          setImmediate(() => {
            if (!handler) return callback(serviceError(new Refusal(status.UNIMPLEMENTED, 'unimplemented', `${key} is not faked`)));
            try {
              callback(null, handler(request));
            } catch (err) {
              callback(serviceError(err instanceof Refusal ? err : new Refusal(status.INTERNAL, 'internal', String(err))));
            }
          });
          return {};
        },
      },
    );
  const backends = new Proxy({}, { get: (_target, name: string) => service(name) }) as unknown as Backends;
  const handler = createGraphQLHandler({
    auth: new ApiKeyAuthenticator(backends.identity, 30_000),
    backends,
    deadlineMs: 5_000,
    limits: DEFAULT_GRAPHQL_LIMITS,
    graphiql: false,
    logging: false,
    ...options,
  });
  const post = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await handler.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': 'pol_abcd1234_key' },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as GraphQLBody };
  };
  return { post, calls, requests, handler };
}
