import { UsageClient } from '@polaris/proto';
import { callUnary, idempotentReadClientOptions, insecureChannel, type InternalAuth } from '@polaris/shared/grpc';
import type { QueryMeter } from './usage-reader';

/**
 * The sink-worker's polaris.v1.Usage, as the rating-worker calls it: every call carries a token
 * minted as `rating-worker`, acting for the organization of the request (the invoice's own).
 * QueryMeter only reads, so a call dropped with its connection is retried once at once rather
 * than failing the whole rating job into its 10 s backoff.
 */
export function connectUsage(addr: string, auth: InternalAuth, deadlineMs: number): { queryMeter: QueryMeter; close(): void } {
  const client = new UsageClient(addr, insecureChannel, idempotentReadClientOptions(auth, 'polaris.v1.Usage'));
  return {
    queryMeter: (request) => callUnary('usage', client.queryMeter.bind(client), request, deadlineMs, { actingFor: request.organizationId }),
    close: () => client.close(),
  };
}
