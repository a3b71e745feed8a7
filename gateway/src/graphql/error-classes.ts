import type { ErrorKind, PolarisError } from '@polaris/shared/errors';

/**
 * What a GraphQL client reads first, `extensions.code`: one of six classes (issue 11), so a client
 * handles errors by class and never learns the product's codes one by one. The product's code
 * stays as `extensions.reason` (`meter_not_found`, `missing_scope`, `invalid_range`, …) and the
 * argument to fix as `extensions.field`. Every error the gateway answers gets its class here.
 */
export const ERROR_CLASSES = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'RATE_LIMITED', 'INTERNAL'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

// A conflict (already_exists, failed_precondition: an invoice already paid, a subject another
// customer holds) is something the caller must change in what it asks: BAD_USER_INPUT, with its
// own reason and its HTTP 409. An outage is INTERNAL with HTTP 503 and a `*_unavailable` reason:
// the client retries on the status, as it does at the collector.
const CLASS_OF_KIND: Record<ErrorKind, ErrorClass> = {
  invalid_argument: 'BAD_USER_INPUT',
  already_exists: 'BAD_USER_INPUT',
  failed_precondition: 'BAD_USER_INPUT',
  payload_too_large: 'BAD_USER_INPUT',
  unsupported_media_type: 'BAD_USER_INPUT',
  unauthenticated: 'UNAUTHENTICATED',
  permission_denied: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  rate_limited: 'RATE_LIMITED',
  unavailable: 'INTERNAL',
  internal: 'INTERNAL',
};

export function errorClassOf(err: Pick<PolarisError, 'kind' | 'code'>): ErrorClass {
  // gRPC has one status (RESOURCE_EXHAUSTED) for "too large" and "too many": the code tells them apart.
  if (err.code === 'rate_limited') return 'RATE_LIMITED';
  return CLASS_OF_KIND[err.kind];
}

export const isErrorClass = (code: unknown): code is ErrorClass => (ERROR_CLASSES as readonly unknown[]).includes(code);

/**
 * The extensions of an error the document itself caused (graphql-js and Yoga: a syntax error, an
 * unknown field, a variable of the wrong type, a body that is not JSON), which carry Yoga's own
 * code or none: BAD_USER_INPUT, with that code, lower-cased, as the reason. Extensions that
 * already hold a class are returned as they are.
 */
export function classifiedDocumentError(extensions: Record<string, unknown>): Record<string, unknown> {
  if (isErrorClass(extensions.code)) return extensions;
  const reason = typeof extensions.code === 'string' ? extensions.code.toLowerCase() : 'invalid_request';
  return { ...extensions, code: 'BAD_USER_INPUT', reason };
}
