import type { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { classifiedDocumentError, isErrorClass } from './error-classes';

/** By shape, not instanceof: two copies of graphql may be loaded side by side (see limits.ts). */
const isGraphQLError = (err: unknown): err is GraphQLError => err instanceof Error && err.name === 'GraphQLError';

function classified(error: unknown): unknown {
  if (!isGraphQLError(error) || isErrorClass(error.extensions.code)) return error;
  return createGraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: classifiedDocumentError({ ...error.extensions }),
  });
}

/**
 * Gives every error of an answer its class (error-classes.ts). Resolvers, the masked errors and
 * the document limits already set one; what is left are the errors graphql-js and Yoga raise
 * before any resolver runs (a syntax error, an unknown field, a variable of the wrong type, a body
 * that is not JSON), which never pass through maskedErrors.
 */
export function errorClassesPlugin(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      // One result per request: batching and subscriptions are off.
      if (Array.isArray(result) || Symbol.asyncIterator in result || !result.errors?.length) return;
      setResult({ ...result, errors: result.errors.map(classified) as GraphQLError[] });
    },
  };
}
