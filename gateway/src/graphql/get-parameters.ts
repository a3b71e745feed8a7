import type { Plugin } from 'graphql-yoga';

/** The GET parameters Yoga reads as JSON (GraphQL over HTTP). */
const JSON_PARAMETERS = ['variables', 'extensions'] as const;

/**
 * `GET /graphql?variables=…` (or `extensions`) that is not JSON: 400 BAD_USER_INPUT `invalid_json`
 * naming the parameter. Yoga parses them with a bare JSON.parse, and its SyntaxError would
 * otherwise leave as a 500 INTERNAL for what is the client's mistake (found by the gateway fuzz test).
 */
export function getParametersPlugin(): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET') return;
      for (const name of JSON_PARAMETERS) {
        const value = url.searchParams.get(name);
        if (value === null || value === '') continue;
        try {
          JSON.parse(value);
        } catch {
          const body = { errors: [{ message: `the ${name} parameter is not JSON`, extensions: { code: 'BAD_USER_INPUT', reason: 'invalid_json', field: name } }] };
          endResponse(new fetchAPI.Response(JSON.stringify(body), { status: 400, headers: { 'content-type': 'application/json; charset=utf-8' } }));
          return;
        }
      }
    },
  };
}
