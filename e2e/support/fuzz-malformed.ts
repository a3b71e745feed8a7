import fc from 'fast-check';

/**
 * fast-check arbitraries of requests to POST /v1/events that are each malformed by construction:
 * every one carries at least one defect the collector must refuse with a 4xx, whatever else the
 * generator picked. (fuzz-inputs.ts generates a mix of valid and broken requests instead.)
 */

export type Delivery =
  /** The body in one write, with Content-Length. */
  | 'whole'
  /** Transfer-Encoding: chunked, no length announced. */
  | 'chunked'
  /** Headers at once, then the body in small pieces with pauses, within the request timeout. */
  | 'trickle'
  /** Announces more bytes than it sends, then waits: the collector's request timeout must cut it. */
  | 'stall';

export interface MalformedRequest {
  kind: string;
  /** Without the API key (the sender adds it). An array sends the header once per value. */
  headers: Record<string, string | string[]>;
  body: string;
  delivery: Delivery;
}

const SINGLE = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
const JSON_TYPES = [SINGLE, `${SINGLE}; charset=utf-8`, 'application/json', 'application/json; charset=UTF-8', BATCH];
const DAY = 86_400_000;
const MIB = 1024 * 1024;

const word = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 1, maxLength: 12 });
const dataValue = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), word, fc.boolean(), fc.constant(null));

/** A well-formed event; each generator below breaks it (or the request around it) for sure. */
const event = fc.record({
  specversion: fc.constant('1.0'),
  id: word.map((w) => `fz-${w}`),
  source: word.map((w) => `fuzz/${w}`),
  type: fc.constantFrom('api.request', 'llm.tokens', 'storage.gb_hours'),
  subject: word,
  data: fc.dictionary(word, dataValue, { maxKeys: 5 }),
});
type Event = typeof event extends fc.Arbitrary<infer E> ? E : never;

/** The event's JSON with one attribute's value replaced by raw JSON text. */
const withRaw = (e: Record<string, unknown>, name: string, raw: string) =>
  JSON.stringify({ ...e, [name]: '\u0001slot' }).replace('"\\u0001slot"', raw);

const contentType = fc.constantFrom(...JSON_TYPES);
const json = (kind: string, body: fc.Arbitrary<string>): fc.Arbitrary<MalformedRequest> =>
  fc.tuple(body, contentType).map(([b, ct]) => ({ kind, headers: { 'content-type': ct }, body: b, delivery: 'whole' as const }));

/** Not JSON at all: a strict prefix of an object, trailing garbage, single quotes, JS-only tokens. */
const brokenJson = fc.tuple(event, fc.nat(), fc.constantFrom('prefix', 'suffix', 'quotes', 'token', 'unquoted')).map(([e, n, how]) => {
  const text = JSON.stringify(e);
  switch (how) {
    case 'prefix': return text.slice(0, 1 + (n % (text.length - 1)));
    case 'suffix': return `${text}${'}],x"'[n % 5]}`;
    case 'quotes': return text.replace(/"/g, "'");
    case 'token': return withRaw(e, 'subject', ['NaN', 'undefined', 'Infinity', "'x'", '0x10'][n % 5] as string);
    default: return text.replace('"id"', 'id');
  }
});

/** Valid JSON of the wrong shape: an attribute of the wrong type, or a body that is no event. */
const wrongTypes = fc.oneof(
  fc.tuple(event, fc.constantFrom('specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype'), fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(word, { maxLength: 2 }), fc.dictionary(word, word, { maxKeys: 2 })))
    .map(([e, name, value]) => JSON.stringify({ ...e, [name]: value })),
  fc.tuple(event, fc.oneof(fc.integer(), word, fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }))).map(([e, data]) => JSON.stringify({ ...e, data })),
  fc.oneof(fc.integer(), word.map((w) => JSON.stringify(w)), fc.constantFrom('null', 'true', '[]', '{}', '[1,2]', '[null]', '[[]]')).map(String),
);

/** Lone surrogates where the store refuses them, and a type outside its alphabet. */
const LONE = ['\\ud800', '\\udfff', '\\ud83d', '\\uDBFF'];
const oddUnicode = fc.tuple(event, fc.constantFrom(...LONE), fc.constantFrom('id', 'source', 'subject', 'data-key', 'data-value', 'type')).map(([e, lone, where]) => {
  if (where === 'data-key') return withRaw(e, 'data', `{"k${lone}":1}`);
  if (where === 'data-value') return withRaw(e, 'data', `{"k":"v${lone}"}`);
  if (where === 'type') return JSON.stringify({ ...e, type: 'api.ré日本' });
  return withRaw(e, where, `"x${lone}"`);
});

/** Past what may be stored: long attributes, data over 64 KiB, numbers no float holds. */
const huge = fc.tuple(event, fc.constantFrom('id', 'subject', 'type', 'source', 'big-data', 'infinite', 'batch'), fc.integer({ min: 1, max: 2_000 })).map(([e, what, n]) => {
  switch (what) {
    case 'big-data': return JSON.stringify({ ...e, data: { blob: 'x'.repeat(64 * 1024 + n) } });
    case 'infinite': return withRaw(e, 'data', `{"tokens":${['1e400', '-1e999', '2e308'][n % 3]}}`);
    case 'batch': return JSON.stringify(Array.from({ length: 1_001 }, () => e));
    case 'type': return JSON.stringify({ ...e, type: 'a'.repeat(257 + n) });
    case 'source': return JSON.stringify({ ...e, source: 's'.repeat(513 + n) });
    default: return JSON.stringify({ ...e, [what]: 'z'.repeat(257 + n) });
  }
});

/** Nested past the limit: in data (33 levels and more) or as the whole body. */
const deep = fc.tuple(event, fc.integer({ min: 33, max: 5_000 }), fc.boolean()).map(([e, depth, inData]) =>
  // `depth` objects: data itself is level 1, so 33 or more is past the limit of 32.
  inData ? withRaw(e, 'data', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) : `${'['.repeat(depth)}${JSON.stringify(e)}${']'.repeat(depth)}`,
);

/** Times that are no calendar time, or outside the window (35 days back, 24 hours ahead). */
const badTime = fc.tuple(event, fc.constantFrom('2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '2016-12-31T23:59:60Z', 'yesterday', '2026-01-01 00:00:00Z', 'old', 'ahead'))
  .map(([e, time]) => {
    if (time === 'old') return JSON.stringify({ ...e, time: new Date(Date.now() - 36 * DAY).toISOString() });
    if (time === 'ahead') return JSON.stringify({ ...e, time: new Date(Date.now() + 2 * DAY).toISOString() });
    return JSON.stringify({ ...e, time });
  });

const binaryHeaders = (e: Event): Record<string, string> => ({
  'ce-specversion': e.specversion, 'ce-id': e.id, 'ce-source': e.source, 'ce-type': e.type, 'ce-subject': e.subject,
});

/** Binary mode (ce-* headers) with a header missing, repeated, contradicting the binding, or malformed. */
const ceHeaders: fc.Arbitrary<MalformedRequest> = fc
  .tuple(event, fc.constantFrom('missing', 'duplicate', 'datacontenttype', 'data', 'bad-name', 'not-ascii', 'bad-escape', 'specversion', 'structured-contradiction', 'batch'), fc.nat())
  .map(([e, defect, n]) => {
    const headers: Record<string, string | string[]> = { 'content-type': 'application/json; charset=utf-8', ...binaryHeaders(e) };
    let body = JSON.stringify(e.data);
    const required = ['ce-specversion', 'ce-id', 'ce-source', 'ce-type', 'ce-subject'];
    switch (defect) {
      case 'missing':
        // Drop one to all but one of them; a request with no ce-* header left would be plain JSON.
        for (let i = 0; i <= n % 4; i++) delete headers[required[(n + i) % 5] as string];
        break;
      case 'duplicate': { const name = required[n % 5] as string; headers[name] = [String(headers[name]), `${String(headers[name])}-2`]; break; }
      case 'datacontenttype': headers['ce-datacontenttype'] = 'application/json'; break;
      case 'data': headers['ce-data'] = body; break;
      case 'bad-name': headers[['ce-my_ext', 'ce-a.b', `ce-${'e'.repeat(21)}`, 'ce-'][n % 4] as string] = 'x'; break;
      case 'not-ascii': headers['ce-subject'] = 'caf\u00e9'; break;
      case 'bad-escape': headers['ce-subject'] = ['100%', '%ZZ', '%ED%A0%80', '%C3'][n % 4] as string; break;
      case 'specversion': headers['ce-specversion'] = ['0.3', '1', '2.0', ''][n % 4] as string; break;
      case 'structured-contradiction':
        headers['content-type'] = SINGLE;
        headers['ce-id'] = `${e.id}-other`;
        body = JSON.stringify(e);
        break;
      default:
        headers['content-type'] = BATCH;
        body = JSON.stringify([e]);
    }
    return { kind: `ce headers: ${defect}`, headers, body, delivery: 'whole' as const };
  });

/** Media types that are not JSON, JSON in another charset, or none at all. */
const wrongContentType = fc
  .tuple(event, fc.constantFrom('text/plain', 'text/json', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'image/png', 'application/json-seq', 'application/json; charset=utf-16', `${SINGLE}; charset=iso-8859-1`, 'none'))
  .map(([e, ct]): MalformedRequest => ({ kind: `content type: ${ct}`, headers: ct === 'none' ? {} : { 'content-type': ct }, body: JSON.stringify(e), delivery: 'whole' }));

/** Over MAX_BODY_BYTES (1 MiB), announced or chunked. */
const oversize = fc.tuple(event, fc.integer({ min: 1, max: 64 * 1024 }), fc.boolean()).map(([e, extra, chunked]) => ({
  kind: chunked ? 'oversize: chunked' : 'oversize: announced',
  headers: { 'content-type': SINGLE },
  body: JSON.stringify({ ...e, data: { blob: 'x'.repeat(MIB + extra) } }),
  delivery: chunked ? ('chunked' as const) : ('whole' as const),
}));

/** The fast lane: everything answered as soon as the body is in. */
export const malformedRequest: fc.Arbitrary<MalformedRequest> = fc.oneof(
  { weight: 14, arbitrary: json('broken json', brokenJson) },
  { weight: 14, arbitrary: json('wrong type', wrongTypes) },
  { weight: 12, arbitrary: json('odd unicode', oddUnicode) },
  { weight: 8, arbitrary: json('huge', huge) },
  { weight: 10, arbitrary: json('deep', deep) },
  { weight: 8, arbitrary: json('bad time', badTime) },
  { weight: 16, arbitrary: ceHeaders },
  { weight: 8, arbitrary: wrongContentType },
  { weight: 1, arbitrary: oversize },
);

/** The slow lane: malformed bodies trickled in under the request timeout, and bodies that stall past it. */
export const slowRequest: fc.Arbitrary<MalformedRequest> = fc.oneof(
  json('slow: trickled broken json', brokenJson).map((r) => ({ ...r, delivery: 'trickle' as const })),
  json('slow: trickled wrong type', wrongTypes).map((r) => ({ ...r, delivery: 'trickle' as const })),
  fc.tuple(event, contentType).map(([e, ct]) => ({ kind: 'slow: stalled body', headers: { 'content-type': ct }, body: JSON.stringify(e), delivery: 'stall' as const })),
);
