import type { GraphQLError } from 'graphql';
import { createGraphQLError, type YogaServerOptions } from 'graphql-yoga';
import { PolarisError } from '@polaris/shared/errors';
import { toClientError } from '@polaris/shared/service';

/** By shape, not instanceof: two copies of graphql may be loaded side by side (see limits.ts). */
function isGraphQLError(err: unknown): err is GraphQLError {
  return err instanceof Error && err.name === 'GraphQLError';
}

/**
 * Yoga's maskedErrors: what a client sees of an error. A resolver's PolarisError arrives as a
 * GraphQLError with `extensions.http.status` (errors.ts); at 500 or above it is an outage or a
 * bug, and its message can hold what only operators may read (a backend's DNS name and port, a
 * peer address). The client gets the class INTERNAL, the reason (`identity_unavailable`,
 * `internal`), a generic message and a request id (@polaris/shared/service toClientError). So does anything a resolver threw that is not a GraphQL
 * error. Client errors (bad arguments, unknown fields, the document limits) pass as they are.
 *
 * The detail is logged once, by Yoga itself: it logs the original of every error this replaces
 * (`logging`, the service's logger), and the request id is set on that original first, so the log
 * line carries it.
 */
export function maskedErrors(): NonNullable<YogaServerOptions<object, object>['maskedErrors']> {
  return {
    maskError: (error: unknown) => {
      const located = isGraphQLError(error) ? error : undefined;
      const extensions = (located?.extensions ?? {}) as { reason?: unknown; http?: { status?: unknown } };
      const status = Number(extensions.http?.status ?? 0);
      const thrownAsIs = located?.originalError !== undefined && !isGraphQLError(located.originalError);
      if (located && status < 500 && !thrownAsIs) return located;

      const kind = status === 503 ? 'unavailable' : 'internal';
      const code = typeof extensions.reason === 'string' && status >= 500 ? extensions.reason : 'internal';
      const detail = located?.originalError ?? error;
      const { body } = toClientError(new PolarisError(kind, code, detail instanceof Error ? detail.message : String(detail)));
      if (error instanceof Error) Object.defineProperty(error, 'requestId', { value: body.requestId, enumerable: true });
      return createGraphQLError(body.message, {
        nodes: located?.nodes,
        source: located?.source,
        positions: located?.positions,
        path: located?.path,
        // Class INTERNAL either way (error-classes.ts); the reason says which (identity_unavailable, internal).
        extensions: { code: 'INTERNAL', reason: body.code, requestId: body.requestId, http: { status: kind === 'unavailable' ? 503 : 500 } },
      });
    },
  };
}
