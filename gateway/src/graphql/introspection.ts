import type { ASTVisitor, ValidationContext } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** The introspection fields a closed schema refuses; `__typename` stays, as clients need it. */
const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/**
 * With GRAPHQL_INTROSPECTION=false, a document asking for `__schema` or `__type` is refused while
 * validating, before any field runs: 400 BAD_USER_INPUT, reason `introspection_disabled`, naming
 * the setting, so a client learns it is the deployment's choice and not a broken server.
 */
export function disableIntrospectionPlugin(): Plugin {
  const rule = (ctx: ValidationContext): ASTVisitor => ({
    Field(node) {
      if (!INTROSPECTION_FIELDS.has(node.name.value)) return;
      // Yoga's own constructor: a client error, whichever copy of graphql validated (limits.ts).
      ctx.reportError(
        createGraphQLError(`introspection is disabled on this server (GRAPHQL_INTROSPECTION=false): ${node.name.value} is not answered`, {
          nodes: [node],
          extensions: { code: 'BAD_USER_INPUT', reason: 'introspection_disabled', limit: 'GRAPHQL_INTROSPECTION' },
        }),
      );
    },
  });
  return { onValidate: ({ addValidationRule }) => addValidationRule(rule) };
}
