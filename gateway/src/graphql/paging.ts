import { defaultFieldResolver, GraphQLError, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { toGraphQLError } from './errors';
import { pageSize } from './pages';

/** A cursor the services refused, by the name of their field for it. */
const CURSOR_FIELDS = new Set(['page_token', 'pageToken']);

/** The refusal of a bad cursor as the caller's argument: `after`, whatever the service called it. */
function cursorAsAfter(err: unknown): unknown {
  if (!(err instanceof GraphQLError) || !CURSOR_FIELDS.has(String(err.extensions.field))) return err;
  return new GraphQLError(err.message, { nodes: err.nodes, path: err.path, originalError: err.originalError, extensions: { ...err.extensions, field: 'after' } });
}

/**
 * The same paging rules on every field that pages, present and future, whatever its resolver
 * does: `first` is 1 to MAX_PAGE_SIZE (else BAD_USER_INPUT `invalid_page_size` naming `first`,
 * before any backend call), and a cursor a service refuses is reported as `after`, the argument
 * the caller sent. Applied once to the built schema, to each field with a `first` argument.
 */
export function enforcePaging(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    // Object and interface types (duck-typed: vitest may load two copies of graphql).
    if (type.name.startsWith('__') || !('getFields' in type) || !('getInterfaces' in type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (!field.args.some((arg) => arg.name === 'first')) continue;
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      const hasAfter = field.args.some((arg) => arg.name === 'after');
      field.resolve = async (source, args: { first?: number | null }, ctx, info) => {
        if (args.first !== undefined && args.first !== null) {
          try {
            pageSize(args.first);
          } catch (err) {
            throw toGraphQLError(err);
          }
        }
        try {
          return await resolve(source, args, ctx, info);
        } catch (err) {
          throw hasAfter ? cursorAsAfter(err) : err;
        }
      };
    }
  }
  return schema;
}
