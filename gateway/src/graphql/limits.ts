import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLError, ValidationContext } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** The gateway's limits on one GraphQL document (config: GRAPHQL_MAX_*). */
export interface GraphQLLimits {
  maxAliases: number;
  maxDepth: number;
  maxTokens: number;
  maxCost: number;
}

/** The documented defaults (gateway/src/config.ts). */
export const DEFAULT_GRAPHQL_LIMITS: GraphQLLimits = { maxAliases: 15, maxDepth: 6, maxTokens: 1_000, maxCost: 5_000 };

type LimitSetting = 'GRAPHQL_MAX_ALIASES' | 'GRAPHQL_MAX_DEPTH' | 'GRAPHQL_MAX_TOKENS' | 'GRAPHQL_MAX_COST';

/** `extensions.reason` of each limit's refusal. */
const REASON: Record<LimitSetting, string> = {
  GRAPHQL_MAX_ALIASES: 'too_many_aliases',
  GRAPHQL_MAX_DEPTH: 'query_too_deep',
  GRAPHQL_MAX_TOKENS: 'query_too_long',
  GRAPHQL_MAX_COST: 'query_too_costly',
};

/**
 * graphql-armor's rejection, re-issued as the gateway's error: `extensions.code` BAD_USER_INPUT,
 * `extensions.reason` the limit in words (`too_many_aliases`), `extensions.limit` the setting
 * that refused it and `max` its value, so a client knows which limit it met and an operator which
 * variable raises it. Validation rules report it (the request
 * then gets 400 with every error); the token limit runs inside the parser, so it throws.
 */
function rejectAs(limit: LimitSetting, max: number) {
  return (ctx: ValidationContext | null, armorError: GraphQLError): void => {
    const why = armorError.message.replace(/^Syntax Error: /, '');
    // Yoga's own constructor: Yoga tells a client error from an unexpected one (masked as a 500)
    // with instanceof, which fails across two copies of graphql (vitest loads ESM and CJS side by side).
    const error = createGraphQLError(`${why} (${limit}=${max})`, { extensions: { code: 'BAD_USER_INPUT', reason: REASON[limit], limit, max } });
    if (!ctx) throw error;
    ctx.reportError(error);
  };
}

/**
 * Every limit, checked before any resolver runs: tokens while parsing (a huge document stops
 * there, at the cost of reading it once), then aliases, depth and cost while validating. Each
 * aliased root field is a backend call, so the alias limit bounds what one request can ask of
 * Identity, Usage and Ingest; the cost limit bounds the rest of the document's size.
 */
export function graphqlLimitPlugins(limits: GraphQLLimits): Plugin[] {
  // propagateOnRejection: false, as the error is raised by rejectAs instead of armor's own throw.
  const common = { exposeLimits: true, propagateOnRejection: false } as const;
  return [
    maxTokensPlugin({ ...common, n: limits.maxTokens, onReject: [rejectAs('GRAPHQL_MAX_TOKENS', limits.maxTokens)] }),
    maxAliasesPlugin({ ...common, n: limits.maxAliases, onReject: [rejectAs('GRAPHQL_MAX_ALIASES', limits.maxAliases)] }),
    maxDepthPlugin({ ...common, n: limits.maxDepth, onReject: [rejectAs('GRAPHQL_MAX_DEPTH', limits.maxDepth)] }),
    costLimitPlugin({ ...common, maxCost: limits.maxCost, onReject: [rejectAs('GRAPHQL_MAX_COST', limits.maxCost)] }),
  ] as Plugin[];
}
