import { createSchema, createYoga, type YogaServerOptions } from 'graphql-yoga';
import type { ApiKeyAuthenticator } from '@polaris/shared/auth';
import type { GatewayAuth } from '../auth/gateway-auth';
import type { Backends } from '../backends';
import { contextFactory, type GatewayContext } from './context';
import { errorClassesPlugin } from './error-classes.plugin';
import { typeDefs } from './generated/type-defs';
import { getParametersPlugin } from './get-parameters';
import { disableIntrospectionPlugin } from './introspection';
import { graphqlLimitPlugins, type GraphQLLimits } from './limits';
import { maskedErrors } from './masked-errors';
import { enforcePaging } from './paging';
import { resolvers } from './resolvers';

export interface GraphQLHandlerOptions {
  /** API keys and JWTs, with the per-organization rate limit (main.ts); a bare ApiKeyAuthenticator takes keys only (tests). */
  auth: GatewayAuth | ApiKeyAuthenticator;
  backends: Backends;
  /** Deadline of each backend call. */
  deadlineMs: number;
  limits: GraphQLLimits;
  /** GRAPHQL_GRAPHIQL: the IDE on GET /graphql. */
  graphiql: boolean;
  /** GRAPHQL_INTROSPECTION: `__schema` and `__type` answered; default true. */
  introspection?: boolean;
  logging: YogaServerOptions<object, GatewayContext>['logging'];
}

/**
 * The gateway's GraphQL endpoint (Yoga): the schema, the per-request context and the document
 * limits. The HTTP server around it (body limit, timeouts, draining) is main.ts.
 */
export function createGraphQLHandler(opts: GraphQLHandlerOptions) {
  return createYoga<object, GatewayContext>({
    schema: enforcePaging(createSchema<GatewayContext>({ typeDefs, resolvers })),
    context: contextFactory(opts.auth, opts.backends, opts.deadlineMs),
    plugins: [getParametersPlugin(), ...graphqlLimitPlugins(opts.limits), ...(opts.introspection === false ? [disableIntrospectionPlugin()] : []), errorClassesPlugin()],
    graphiql: opts.graphiql,
    maskedErrors: maskedErrors(),
    logging: opts.logging,
    landingPage: false,
  });
}
