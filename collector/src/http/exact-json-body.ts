import type { FastifyBodyParser, FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { PolarisError } from '@polaris/shared/errors';
import { withExactNumbers } from '@polaris/shared/contracts';

/** JSON is UTF-8 (RFC 8259); a Content-Type naming another charset is refused rather than misread. */
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

function refuseOtherCharsets(contentType: string | undefined): void {
  const charset = CHARSET.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new PolarisError('unsupported_media_type', 'unsupported_charset', `events are UTF-8 JSON; charset=${charset} is not accepted`, 'content-type');
  }
}

/**
 * The JSON body parser for every type the collector accepts. Like Fastify's own (secure-json-parse,
 * refusing "__proto__" and "constructor.prototype" keys), but numbers keep their exact text when a
 * 64-bit float would change them: a usage quantity is stored as the client sent it.
 * An empty body is an error, except in CloudEvents binary mode (a `ce-specversion` header), where
 * it is an event without data.
 */
export function registerExactJsonBody(app: FastifyInstance, contentTypes: Array<string | RegExp>): void {
  app.removeContentTypeParser('application/json');
  const parse: FastifyBodyParser<string> = (request, body, done) => {
    try {
      refuseOtherCharsets(request.headers['content-type']);
    } catch (err) {
      done(err as PolarisError, undefined);
      return;
    }
    const text = body;
    if (text.length === 0) {
      if (request.headers['ce-specversion'] !== undefined) done(null, undefined);
      else done(new PolarisError('invalid_argument', 'empty_body', 'the request body is empty', 'body'), undefined);
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
  };
  for (const contentType of contentTypes) app.addContentTypeParser(contentType, { parseAs: 'string' }, parse);
}
