import { credentials, Metadata, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { context, propagation } from '@opentelemetry/api';
import { ACTING_FOR_KEY, callerTokenInterceptor } from './caller-token-interceptor';
import type { InternalAuth } from './internal-token';
import { fromServiceError } from './status';
import { metadataSetter } from './trace-metadata';

export const insecureChannel = credentials.createInsecure();

/**
 * Channel options shared by every internal client: keep connections warm, retry transparently,
 * and spread calls over every address the target resolves to. grpc-js defaults to pick_first,
 * which sends everything over one connection to one pod; with round_robin and a
 * `dns:///<headless service>:<port>` target (k8s/README.md) each channel connects to every ready
 * pod. With a single address (local stack, compose) it behaves as before. The service config is
 * ours alone: no DNS TXT lookup may replace it.
 */
export const channelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.enable_retries': 1,
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  'grpc.service_config_disable_resolution': 1,
};

/**
 * Options for a client of an internal service: the shared channel options, plus a token on every
 * call, minted by this service's `auth` for the service called (docs/ARCHITECTURE.md, Tenancy).
 * A client built without them is refused by every Polaris server (UNAUTHENTICATED).
 */
export function internalClientOptions(auth: InternalAuth) {
  return { ...channelOptions, interceptors: [callerTokenInterceptor(auth)] };
}

/**
 * internalClientOptions for a client whose every method of `service` is an idempotent read (or,
 * given `methods`, only those methods, by their proto names: `GetCustomer`): a call that fails
 * UNAVAILABLE (a dropped connection, e.g. the server's max connection age ending it mid-call) is
 * retried once by grpc-js, after ~100 ms, within the call's own deadline.
 * Never for writes: a retried write could apply twice.
 */
export function idempotentReadClientOptions(auth: InternalAuth, service: string, methods?: readonly string[]) {
  return {
    ...internalClientOptions(auth),
    'grpc.service_config': JSON.stringify({
      loadBalancingConfig: [{ round_robin: {} }],
      methodConfig: [
        {
          name: methods ? methods.map((method) => ({ service, method })) : [{ service }],
          retryPolicy: { maxAttempts: 2, initialBackoff: '0.1s', maxBackoff: '0.5s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
        },
      ],
    }),
  };
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

export interface CallScope {
  /**
   * The organization the call acts for: the one of the API key the caller validated, never one
   * read from user input. Required by every organization-scoped method (the server compares it
   * with the request's organization_id); omitted for org-less calls such as ValidateApiKey.
   */
  actingFor?: string;
}

/**
 * Calls a unary RPC with a deadline and the current trace context, as a promise. A failure
 * comes back as a PolarisError (its code preserved across the hop); `peer` names the service
 * in "unavailable" errors so the user learns which dependency is down. The client's token
 * interceptor (internalClientOptions) signs `scope.actingFor` into the call's token.
 */
export function callUnary<Req, Res>(
  peer: string,
  method: UnaryMethod<Req, Res>,
  request: Req,
  deadlineMs: number,
  scope: CallScope = {},
): Promise<Res> {
  const metadata = new Metadata();
  propagation.inject(context.active(), metadata, metadataSetter);
  if (scope.actingFor !== undefined) metadata.set(ACTING_FOR_KEY, scope.actingFor);
  return new Promise<Res>((resolve, reject) => {
    method(request, metadata, { deadline: Date.now() + deadlineMs }, (err, res) =>
      err ? reject(fromServiceError(err, peer)) : resolve(res),
    );
  });
}
