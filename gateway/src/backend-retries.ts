import type { ServiceDefinition } from '@grpc/grpc-js';
import { idempotentReadClientOptions, internalClientOptions, type InternalAuth } from '@polaris/shared/grpc';

/**
 * The RPCs the gateway may send twice: reads by their name (Get…, List…, BatchGet…, Query…,
 * Validate…), which change nothing a retry could apply again. Every other method (Create, Update,
 * Archive, Publish, Cancel, Finalize, MarkInvoicePaid, Publish of events, StartBackfill…) is a
 * mutation and is never retried: a write whose answer was lost may have been applied.
 */
const READ_METHOD = /^(Get|List|BatchGet|Query|Validate)[A-Z]/;

/** `polaris.v1.Customers` and the proto names of its methods (`GetCustomer`), from a generated service definition. */
function methodsOf(definition: ServiceDefinition): { service: string; methods: string[] } {
  const paths = Object.values(definition).map((method) => method.path);
  const service = paths[0]?.split('/')[1] ?? '';
  return { service, methods: paths.map((path) => path.split('/')[2] ?? '') };
}

/** The methods of a service that are idempotent reads, by their proto names. */
export function idempotentReads(definition: ServiceDefinition): string[] {
  return methodsOf(definition).methods.filter((method) => READ_METHOD.test(method));
}

/**
 * Channel options of a backend client: the internal token on every call, and a gRPC retry policy
 * (one retry on UNAVAILABLE, within the call's deadline) on its reads only.
 */
export function backendClientOptions(auth: InternalAuth, definition: ServiceDefinition) {
  const reads = idempotentReads(definition);
  return reads.length === 0 ? internalClientOptions(auth) : idempotentReadClientOptions(auth, methodsOf(definition).service, reads);
}
