import type { ApiKey as ProtoApiKey } from '@polaris/proto';
import { PolarisError } from '@polaris/shared/errors';
import { callUnary } from '@polaris/shared/grpc';
import type { GatewayAuth } from '../auth/gateway-auth';
import { inArgumentTerms } from './argument-names';
import type { GatewayContext } from './context';
import { guarded } from './errors';
import type { ApiKey, Resolvers } from './generated/resolvers-types';
import { connection, pageArgument, pageSize } from './pages';

/** `me` and `organization`: the organization of the credential, as Identity knows it. */
const organizationOfCredential = guarded(async (_parent: unknown, _args: unknown, ctx: GatewayContext) => {
  const { organizationId } = await ctx.principal();
  const { identity } = ctx.backends;
  return callUnary('identity', identity.getOrganization.bind(identity), { organizationId }, ctx.deadlineMs, { actingFor: organizationId });
});

const toApiKey = (k: ProtoApiKey | undefined): ApiKey => {
  if (!k?.createdAt) throw new PolarisError('internal', 'identity_bad_response', 'ApiKeys answered a key without its creation time');
  return { id: k.id, name: k.name, prefix: k.prefix, scopes: k.scopes, createdAt: k.createdAt, revokedAt: k.revokedAt ?? null };
};

/** polaris.v1.ApiKeys, or an internal error in a handler built without it (tests of other fields). */
function apiKeysClient(ctx: GatewayContext): NonNullable<GatewayAuth['apiKeys']> {
  if (!ctx.auth.apiKeys) throw new PolarisError('internal', 'api_keys_unavailable', 'this gateway was built without polaris.v1.ApiKeys');
  return ctx.auth.apiKeys;
}

/** The caller's scopes travel with each change: ApiKeys refuses a key stronger than its creator. */
async function admin(ctx: GatewayContext): Promise<{ organizationId: string; callerScopes: string[] }> {
  const { organizationId, scopes } = await ctx.principal('admin');
  return { organizationId, callerScopes: scopes };
}

/** ApiKeys names `scopes[1]`, `name`; the caller sent them under `input`. */
const inputArgument = (field: string) => (field === 'id' ? field : `input.${field}`);

/** Identity fields: the organization, its API keys, and the exchange of a key for a dashboard token. */
export const identityResolvers = {
  Query: {
    me: organizationOfCredential,
    organization: organizationOfCredential,
    apiKeys: guarded(async (_parent, args, ctx) => {
      const { organizationId } = await admin(ctx);
      const client = apiKeysClient(ctx);
      const res = await callUnary(
        'identity',
        client.listApiKeys.bind(client),
        { organizationId, pageSize: pageSize(args.first), pageToken: args.after ?? '' },
        ctx.deadlineMs,
        { actingFor: organizationId },
      ).catch((err: unknown) => {
        throw inArgumentTerms(err, pageArgument);
      });
      return connection(res.apiKeys.map(toApiKey), res.nextPageToken);
    }),
  },
  Mutation: {
    createDashboardToken: guarded(async (_parent, _args, ctx) => {
      const principal = await ctx.principal();
      // A token must not mint the next one: it would live for ever without ever meeting the
      // database again, and a revoked key would never stop working.
      if (principal.credential !== 'api_key') {
        throw new PolarisError('permission_denied', 'api_key_required', 'only an API key can be exchanged for a dashboard token; this request carries a token');
      }
      if (!ctx.auth.dashboardTokens) {
        throw new PolarisError('permission_denied', 'token_signing_not_configured', 'this gateway does not issue tokens: token signing is not configured (JWT_HS256_SECRET)');
      }
      return ctx.auth.dashboardTokens.issue(principal);
    }),
    createApiKey: guarded(async (_parent, args, ctx) => {
      const { organizationId, callerScopes } = await admin(ctx);
      const client = apiKeysClient(ctx);
      const created = await callUnary(
        'identity',
        client.createApiKey.bind(client),
        { organizationId, name: args.input.name, scopes: args.input.scopes, callerScopes },
        ctx.deadlineMs,
        { actingFor: organizationId },
      ).catch((err: unknown) => {
        throw inArgumentTerms(err, inputArgument);
      });
      return { apiKey: toApiKey(created.apiKey), secret: created.secret };
    }),
    revokeApiKey: guarded(async (_parent, args, ctx) => {
      const { organizationId, callerScopes } = await admin(ctx);
      const client = apiKeysClient(ctx);
      const revoked = await callUnary('identity', client.revokeApiKey.bind(client), { organizationId, id: args.id, callerScopes }, ctx.deadlineMs, {
        actingFor: organizationId,
      });
      return toApiKey(revoked);
    }),
  },
} satisfies Resolvers;
