import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { PolarisError } from '@polaris/shared/errors';
import { withExactNumbers } from '@polaris/shared/contracts';

/**
 * The JSON body parser for every type the collector accepts. Like Fastify's own (secure-json-parse,
 * refusing "__proto__" and "constructor.prototype" keys), but numbers keep their exact text when a
 * 64-bit float would change them: a usage quantity is stored as the client sent it.
 */
export function registerExactJsonBody(app: FastifyInstance, contentTypes: string[]): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(contentTypes, { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      done(new PolarisError('invalid_argument', 'empty_body', 'the request body is empty', 'body'), undefined);
      return;
    }
    try {
      // secure-json-parse first (fast, and it refuses prototype keys); exact numbers only when a
      // number in the text is long enough for a float to change it.
      done(null, withExactNumbers(text, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })));
    } catch {
      done(
        new PolarisError('invalid_argument', 'invalid_json', 'the request body is not valid JSON (or has a "__proto__" or "constructor.prototype" key)', 'body'),
        undefined,
      );
    }
  });
}
