import { UsageClient } from '@polaris/proto';
import { callUnary, insecureChannel, internalClientOptions, type InternalAuth } from '@polaris/shared/grpc';
import type { QueryMeter } from './usage-reader';

/**
 * The sink-worker's polaris.v1.Usage, as the rating-worker calls it: every call carries a token
 * minted as `rating-worker`, acting for the organization of the request (the invoice's own).
 */
export function connectUsage(addr: string, auth: InternalAuth, deadlineMs: number): { queryMeter: QueryMeter; close(): void } {
  const client = new UsageClient(addr, insecureChannel, internalClientOptions(auth));
  return {
    queryMeter: (request) => callUnary('usage', client.queryMeter.bind(client), request, deadlineMs, { actingFor: request.organizationId }),
    close: () => client.close(),
  };
}
