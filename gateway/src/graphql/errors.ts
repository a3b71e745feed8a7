import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import { asPolarisError, httpStatusOf, PolarisError } from '@polaris/shared/errors';
import { errorClassOf } from './error-classes';

/**
 * A PolarisError as a GraphQL error: `extensions.code` is its class (error-classes.ts),
 * `extensions.reason` the product's code and `extensions.field` the argument to fix, and the HTTP
 * status follows the same table as the REST collector.
 */
export function toGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError && !(err.originalError instanceof PolarisError)) return err;
  const perr = asPolarisError(err instanceof GraphQLError ? err.originalError : err);
  return new GraphQLError(perr.message, {
    extensions: {
      code: errorClassOf(perr),
      reason: perr.code,
      ...(perr.field ? { field: perr.field } : {}),
      http: { status: httpStatusOf(perr) },
    },
  });
}

/** Wraps a resolver so that every error it throws leaves as a GraphQL error with a class, a reason, a field and an HTTP status. */
export function guarded<P, A, C, R>(
  resolve: (parent: P, args: A, ctx: C, info: GraphQLResolveInfo) => Promise<R>,
): (parent: P, args: A, ctx: C, info: GraphQLResolveInfo) => Promise<R> {
  return async (parent, args, ctx, info) => {
    try {
      return await resolve(parent, args, ctx, info);
    } catch (err) {
      throw toGraphQLError(err);
    }
  };
}
