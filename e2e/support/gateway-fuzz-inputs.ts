/**
 * Deterministic hostile GraphQL requests for the gateway fuzz test: the same seed gives the same
 * requests in the same order. Each is an HTTP request as a client could send it: method, headers,
 * raw body or query string.
 */
import { Rng } from './fuzz-inputs';

export interface GatewayFuzzRequest {
  kind: string;
  method: 'GET' | 'POST';
  /** undefined: no Content-Type header at all. */
  contentType: string | undefined;
  /** POST body, sent as is. */
  body?: string;
  /** GET: the query string after `?`. */
  search?: string;
  /** The API key to send, if any (the valid one, or a made-up one). */
  key: 'valid' | 'none' | 'forged';
}

/** Real documents of the schema, to mutate and to wrap in hostile variables. */
const DOCUMENTS = [
  '{ me { id slug name createdAt } }',
  '{ usage(metric: "api_calls") { metric total rows { windowStart value eventCount } invalidCount complete } }',
  '{ usage(metric: "api_calls", windowSize: DAY, windowTimeZone: "Europe/Paris", groupBy: ["subject"]) { rows { subject value } } }',
  '{ meters(first: 5) { nodes { slug aggregation dimensions { name path } } endCursor hasNextPage } }',
  '{ meter(slug: "api_calls") { slug version latestBackfill { state } } }',
  '{ customers(first: 5) { nodes { id externalId subjects } endCursor } }',
  '{ customer(externalId: "nobody") { id } }',
  '{ plans(first: 5) { nodes { key versions { version prices { key model meterSlug } } } } }',
  '{ subscriptions(first: 5) { nodes { id customer { id } phases { planKey } } } }',
  '{ invoices(first: 5) { id totalAmount status customer { externalId } lines { amount meter { slug } } } }',
  '{ invoicesConnection(first: 5, after: "x") { nodes { id } endCursor } }',
  '{ upcomingInvoice(externalId: "nobody") { totalAmount } }',
  'mutation { recordUsage(metric: "fuzz_meter", quantity: "1", id: "fuzz-1") }',
  'mutation { createCustomer(input: { externalId: "fuzz", name: "Fuzz", currency: "USD" }) { id } }',
  'mutation { createMeter(input: { slug: "fuzz_meter", name: "F", eventType: "fuzz", aggregation: COUNT }) { slug } }',
  'mutation { finalizeInvoice(id: "00000000-0000-0000-0000-000000000000") { id } }',
  'query Q($m: String!, $f: DateTime, $w: WindowSize) { usage(metric: $m, from: $f, windowSize: $w) { total } }',
  'query Q($n: Int, $a: String) { meters(first: $n, after: $a) { nodes { slug } } customers(first: $n, after: $a) { nodes { id } } }',
  'mutation M($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }',
  'mutation M($q: Decimal!, $d: JSONObject) { recordUsage(metric: "fuzz_meter", quantity: $q, data: $d) }',
  'mutation M($e: RecordEventInput!) { recordEvent(input: $e) { accepted } }',
];

const FIELDS = ['me', 'usage', 'meters', 'meter', 'customers', 'invoices', 'plans', 'nope', '__schema', '__type', '__typename', 'id', 'nodes', 'total', 'rows'];
const PUNCTUATION = ['{', '}', '(', ')', '[', ']', ':', '!', '$', '@', '...', '=', '|', '&', ',', '#', '"', '"""', '\\'];
const KEYWORDS = ['query', 'mutation', 'subscription', 'fragment', 'on', 'true', 'false', 'null', 'schema', 'type', 'input', 'enum', 'directive'];
const ODD_TEXT = ['é', '日本語', '\u{1F600}', '\u0000', '\u2028', '\uFFFF', '\u200F', '\t', '\u{10FFFF}', '\uD800', '\r\n', '\u202E', 'Ω'];
const SCALARS = [
  'null', 'true', '0', '-1', '2147483648', '-2147483649', '1e400', '1.5', '"x"', '""', '[]', '{}', '[1,2,3]', '{"a":{"b":{"c":1}}}', '"2026-13-45T99:99:99Z"',
  '"NaN"', '"-0"', '"1e9999"', '9007199254740993', '"\\u0000"', '"\\ud800"', '"DAY"', '"not-a-uuid"',
];
const CONTENT_TYPES = [
  'application/json', 'application/json', 'application/json', 'application/graphql-response+json', 'application/graphql', undefined, '', 'text/plain',
  'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/json;;;',
  '*/*', 'application/octet-stream', 'APPLICATION/JSON', 'application/ json', 'json',
];

const randomToken = (rng: Rng): string => {
  const which = rng.int(6);
  if (which === 0) return rng.pick(FIELDS);
  if (which === 1) return rng.pick(PUNCTUATION);
  if (which === 2) return rng.pick(KEYWORDS);
  if (which === 3) return rng.pick(SCALARS);
  if (which === 4) return rng.pick(ODD_TEXT);
  return String.fromCodePoint(rng.int(0x3000));
};

function randomTokens(rng: Rng): string {
  return Array.from({ length: 1 + rng.int(60) }, () => randomToken(rng)).join(rng.chance(0.5) ? ' ' : '');
}

function deepNesting(rng: Rng): string {
  const depth = 1 + rng.int(rng.chance(0.3) ? 2_000 : 40);
  const field = rng.pick(['me', 'usage(metric: "a")', 'meters', 'a: me', 'nodes', '__typename', '...on Query']);
  return `{ ${`${field} { `.repeat(depth)}id${' }'.repeat(depth)} }`;
}

function hugeString(rng: Rng): string {
  const size = rng.pick([10_000, 100_000, 200_000, 250_000, 300_000, 1_000_000]);
  const unit = rng.pick(['a', 'é', '\u{1F600}', '\\"', '\\u0000', ' ']);
  return `{ usage(metric: "${unit.repeat(Math.ceil(size / unit.length))}") { total } }`;
}

function mutated(rng: Rng): string {
  const chars = [...rng.pick(DOCUMENTS)];
  for (let i = 0, n = 1 + rng.int(6); i < n; i++) {
    const at = rng.int(chars.length + 1);
    const op = rng.int(3);
    if (op === 0) chars.splice(at, 1);
    else if (op === 1) chars.splice(at, 0, randomToken(rng));
    else chars.splice(at, 1, rng.pick(ODD_TEXT));
  }
  return chars.join('');
}

function wrongTypes(rng: Rng): string {
  const arg = rng.pick(['first', 'after', 'metric', 'windowSize', 'from', 'to', 'groupBy', 'slug', 'id', 'includeArchived', 'subjects', 'filters', 'status']);
  const field = rng.pick(['usage', 'meters', 'meter', 'customers', 'customer', 'invoices', 'invoicesConnection', 'plans', 'subscriptions', 'invoice', 'unknownField']);
  const selection = rng.pick(['{ total }', '{ nodes { id } }', '{ id }', '', '{ unknown }', '{ __typename }']);
  return `{ ${field}(${arg}: ${rng.pick(SCALARS)}) ${selection} }`;
}

function variables(rng: Rng): Record<string, unknown> | unknown {
  const value = (): unknown =>
    rng.pick<unknown>([
      null, 1, -1, 2 ** 31, 1e300, 0.5, 'x', '', 'é\u0000', true, [], {}, [1, 'a'], { externalId: 1 }, { nested: { deeper: [{}] } },
      'a'.repeat(10_000), { externalId: 'x', name: 'y', currency: 'USD', timeZone: 'Not/AZone' }, { id: 'e', type: 't', subject: 's', data: 'not-an-object' },
      '2026-01-01T00:00:00Z', 'DAY', 'api_calls', '12.50', '1e5',
    ]);
  if (rng.chance(0.1)) return rng.pick<unknown>([[], 'vars', 42, null, [{ m: 1 }]]);
  return Object.fromEntries(['m', 'f', 'w', 'n', 'a', 'i', 'q', 'd', 'e', 'extra'].filter(() => rng.chance(0.5)).map((k) => [k, value()]));
}

/** Hostile requests, `count` of them, from `seed`. */
export function gatewayFuzzRequests(seed: number, count: number): GatewayFuzzRequest[] {
  const rng = new Rng(seed);
  const requests: GatewayFuzzRequest[] = [];
  for (let i = 0; i < count; i++) {
    const key: GatewayFuzzRequest['key'] = rng.chance(0.85) ? 'valid' : rng.pick(['none', 'forged'] as const);
    const kind = rng.pick(['tokens', 'nesting', 'huge', 'mutated', 'wrong-types', 'variables', 'batch', 'invalid-json', 'content-type', 'get', 'body-shape']);
    const json = (body: unknown) => ({ kind, method: 'POST' as const, contentType: 'application/json', body: JSON.stringify(body), key });
    switch (kind) {
      case 'tokens':
        requests.push(json({ query: randomTokens(rng) }));
        break;
      case 'nesting':
        requests.push(json({ query: deepNesting(rng) }));
        break;
      case 'huge':
        requests.push(json({ query: hugeString(rng) }));
        break;
      case 'mutated':
        requests.push(json({ query: mutated(rng) }));
        break;
      case 'wrong-types':
        requests.push(json({ query: wrongTypes(rng) }));
        break;
      case 'variables':
        requests.push(json({ query: rng.pick(DOCUMENTS), variables: variables(rng), ...(rng.chance(0.2) ? { operationName: rng.pick(['Q', 'M', 'X', 1, null]) } : {}) }));
        break;
      case 'batch':
        requests.push(json(Array.from({ length: rng.int(rng.chance(0.2) ? 500 : 5) }, () => ({ query: rng.pick(DOCUMENTS) }))));
        break;
      case 'invalid-json': {
        const text = JSON.stringify({ query: rng.pick(DOCUMENTS), variables: {} });
        const cut = rng.int(text.length);
        const broken = rng.pick([text.slice(0, cut), `${text}}`, text.replace(/"/g, "'"), `\uFEFF${text}`, '', 'null', '[]', '"query"', '{"query":', '\u0000', randomTokens(rng)]);
        requests.push({ kind, method: 'POST', contentType: 'application/json', body: broken, key });
        break;
      }
      case 'content-type':
        requests.push({ kind, method: 'POST', contentType: rng.pick(CONTENT_TYPES), body: rng.chance(0.5) ? JSON.stringify({ query: rng.pick(DOCUMENTS) }) : rng.pick(DOCUMENTS), key });
        break;
      case 'get': {
        const params = new URLSearchParams({ query: rng.chance(0.5) ? rng.pick(DOCUMENTS) : mutated(rng) });
        if (rng.chance(0.3)) params.set('variables', rng.pick(['{', '[]', '{"n":"x"}', 'null', JSON.stringify(variables(rng))]));
        requests.push({ kind, method: 'GET', contentType: undefined, search: params.toString(), key });
        break;
      }
      default:
        requests.push(json(rng.pick<unknown>([{ query: 42 }, { query: null }, { query: ['{ me { id } }'] }, { query: { a: 1 } }, {}, { variables: {} }, { query: '{ me { id } }', extensions: 'x' }, { query: '' }])));
    }
  }
  return requests;
}
