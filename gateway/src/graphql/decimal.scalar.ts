import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { isDecimalText } from '@polaris/shared/billing';

/** Far beyond any figure the services take (20 integer and 12 fractional digits): a bound on what is parsed at all. */
const MAX_DECIMAL_CHARS = 64;

// Yoga's constructor, as in limits.ts; graphql-js reports it against the argument that held it.
const refused = (why: string) => createGraphQLError(`Decimal ${why}`, { extensions: { code: 'BAD_USER_INPUT', reason: 'invalid_decimal' } });

function checked(text: string): string {
  if (text.length > MAX_DECIMAL_CHARS) throw refused(`must be at most ${MAX_DECIMAL_CHARS} characters`);
  if (!isDecimalText(text)) throw refused(`must be decimal text such as "12.50" or "-3" (no exponent, spaces or +), not ${JSON.stringify(text)}`);
  return text;
}

/**
 * `Decimal`: money and quantities as exact decimal text, never a float. Out it is always a JSON
 * string (the services answer text). In, a string of decimal text, or a number literal in the
 * document, read from its source text (`quantity: 10.5` is "10.5" without becoming a double). A
 * JSON number in variables was already a double when it was parsed, so only a safe integer is
 * taken from there: any other may have lost digits, and the caller is told to send a string.
 */
export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description: 'Exact decimal text ("12.50"); see schema.graphql.',
  serialize(value) {
    if (typeof value !== 'string') throw new TypeError(`Decimal answers decimal text, not ${typeof value}`);
    return value;
  },
  parseValue(value) {
    if (typeof value === 'string') return checked(value);
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    if (typeof value === 'number') throw refused(`in variables must be a string ("${String(value)}"): a JSON number may have lost digits on the way`);
    throw refused(`must be a string of decimal text, not ${value === null ? 'null' : typeof value}`);
  },
  parseLiteral(ast: ValueNode) {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return checked(ast.value);
    throw refused('must be a string of decimal text or a number literal');
  },
});
