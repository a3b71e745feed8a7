import { createSchema, createYoga, type YogaServerOptions } from 'graphql-yoga';
import type { ApiKeyAuthenticator } from '@polaris/shared/auth';
import type { Backends } from '../backends';
import { contextFactory, type GatewayContext } from './context';
import { errorClassesPlugin } from './error-classes.plugin';
import { typeDefs } from './generated/type-defs';
import { graphqlLimitPlugins, type GraphQLLimits } from './limits';
import { maskedErrors } from './masked-errors';
import { resolvers } from './resolvers';

export interface GraphQLHandlerOptions {
  auth: ApiKeyAuthenticator;
  backends: Backends;
  /** Deadline of each backend call. */
  deadlineMs: number;
  limits: GraphQLLimits;
  graphiql: boolean;
  logging: YogaServerOptions<object, GatewayContext>['logging'];
}

/**
 * The gateway's GraphQL endpoint (Yoga): the schema, the per-request context and the document
 * limits. The HTTP server around it (body limit, timeouts, draining) is main.ts.
 */
export function createGraphQLHandler(opts: GraphQLHandlerOptions) {
  return createYoga<object, GatewayContext>({
    schema: createSchema<GatewayContext>({ typeDefs, resolvers }),
    context: contextFactory(opts.auth, opts.backends, opts.deadlineMs),
    plugins: [...graphqlLimitPlugins(opts.limits), errorClassesPlugin()],
    graphiql: opts.graphiql,
    maskedErrors: maskedErrors(),
    logging: opts.logging,
    landingPage: false,
  });
}
