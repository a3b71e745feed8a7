import { GraphQLError } from 'graphql';
import type { RequestRateLimited } from './organization-rate-limiter';

/**
 * A refused request as GraphQL answers it: `extensions.code` RATE_LIMITED with `retryAfterMs`, and
 * HTTP 429 with `Retry-After` (whole seconds, rounded up). Built here rather than by the generic
 * error mapping, which knows nothing of headers: Yoga takes `extensions.http` for the response's
 * status and headers and leaves it out of the body.
 */
export function rateLimitedGraphQLError(err: RequestRateLimited): GraphQLError {
  return new GraphQLError(err.message, {
    extensions: {
      code: 'RATE_LIMITED',
      reason: err.code,
      retryAfterMs: err.retryAfterMs,
      http: { status: 429, headers: { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))) } },
    },
  });
}
