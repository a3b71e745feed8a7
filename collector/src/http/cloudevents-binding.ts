import { PolarisError } from '@polaris/shared/errors';

// The CloudEvents HTTP protocol binding (v1.0.2), as POST /v1/events reads it:
// - structured mode: Content-Type application/cloudevents+json, the body is one event;
// - batched mode: application/cloudevents-batch+json, the body is an array of events;
// - binary mode: any other (JSON) Content-Type with `ce-*` headers: the headers are the
//   attributes, the body is the data and Content-Type its `datacontenttype`;
// - plain application/json without `ce-*` headers: one event or an array, as before the binding.
// The official SDKs send binary mode by default.

export const SINGLE = 'application/cloudevents+json';
export const BATCH = 'application/cloudevents-batch+json';

export type BindingMode = 'structured' | 'batched' | 'binary' | 'json';

/** A `ce-*` header as received: its lower-cased name and every value sent under it. */
export interface CeHeader {
  name: string;
  values: string[];
}

/** The media type of a Content-Type, lower-cased and without parameters ('' when absent). */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The `ce-*` headers of a request, from Node's raw header list, so a repeated one is seen as such. */
export function ceHeadersOf(rawHeaders: readonly string[]): CeHeader[] {
  const byName = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (!name.startsWith('ce-')) continue;
    const values = byName.get(name) ?? [];
    values.push(rawHeaders[i + 1] as string);
    byName.set(name, values);
  }
  return [...byName].map(([name, values]) => ({ name, values }));
}

export function bindingMode(mediaType: string, ceHeaders: readonly CeHeader[]): BindingMode {
  if (mediaType === BATCH) return 'batched';
  if (mediaType === SINGLE) return 'structured';
  return ceHeaders.length > 0 ? 'binary' : 'json';
}

const headerError = (code: string, header: string, message: string) => new PolarisError('invalid_argument', code, `${header}: ${message}`, header);

/** Attributes a binary-mode event must carry as headers (`subject` is Polaris's: the customer billed). */
const REQUIRED = ['specversion', 'id', 'source', 'type', 'subject'] as const;
const WHAT: Record<(typeof REQUIRED)[number], string> = {
  specversion: 'the CloudEvents version, "1.0"',
  id: 'the event id',
  source: 'the event source',
  type: 'the event type',
  subject: 'the customer the usage is billed to',
};
/**
 * Attribute names a `ce-` header may not carry in binary mode: the data is the body, and its
 * content type travels as Content-Type (spec, 3.1.1). A header with one of them contradicts those.
 */
const NOT_HEADERS: Record<string, string> = {
  data: 'in binary mode the data is the request body',
  data_base64: 'in binary mode the data is the request body',
  datacontenttype: 'in binary mode the data\'s content type is the Content-Type header',
};
/** Extension attribute names (spec, "Attribute Naming Convention"). */
const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;
/** What may appear in a header value unencoded: printable ASCII (spec, 3.1.3.2: the rest is percent-encoded UTF-8). */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** One header's value, percent-decoded as UTF-8; refused when repeated, not ASCII, or badly encoded. */
function headerValue(header: CeHeader): string {
  if (header.values.length > 1) throw headerError('duplicate_ce_header', header.name, 'sent more than once; send each attribute once');
  const raw = header.values[0] ?? '';
  if (!PRINTABLE_ASCII.test(raw)) {
    throw headerError('invalid_ce_header', header.name, 'must be printable ASCII; percent-encode other characters as UTF-8 (e.g. é as %C3%A9)');
  }
  try {
    return decodeURIComponent(raw);
  } catch {
    throw headerError('invalid_ce_header', header.name, 'is not valid percent-encoded UTF-8 (a % must start %XX, and %25 stands for % itself)');
  }
}

/** The attributes a set of `ce-*` headers carries, by attribute name, with their header names. */
function attributesOf(headers: readonly CeHeader[]): Map<string, { header: string; value: string }> {
  const attributes = new Map<string, { header: string; value: string }>();
  for (const header of headers) {
    const name = header.name.slice(3);
    if (!ATTRIBUTE_NAME.test(name) && !(name in NOT_HEADERS)) {
      throw headerError('invalid_ce_header', header.name, 'an attribute name has 1 to 20 lower-case letters and digits (a-z, 0-9) only');
    }
    attributes.set(name, { header: header.name, value: headerValue(header) });
  }
  return attributes;
}

/**
 * A binary-mode request as the structured event it stands for: the attributes from the `ce-*`
 * headers (extensions included), `datacontenttype` from Content-Type, the body as `data` (absent
 * when the body is empty). The event is validated afterwards like any other; `binaryModeField`
 * says which header to name for a refused attribute.
 */
export function binaryModeEvent(ceHeaders: readonly CeHeader[], contentType: string | undefined, body: unknown): Record<string, unknown> {
  const attributes = attributesOf(ceHeaders);
  for (const [name, { header }] of attributes) {
    const why = NOT_HEADERS[name];
    if (why) throw headerError('contradictory_ce_header', header, `not allowed: ${why}`);
  }
  for (const name of REQUIRED) {
    if (!attributes.has(name)) {
      throw headerError('missing_ce_header', `ce-${name}`, `required in binary mode (${WHAT[name]}); a request with ce-* headers is a binary-mode CloudEvent`);
    }
  }
  const event: Record<string, unknown> = Object.fromEntries([...attributes].map(([name, { value }]) => [name, value]));
  if (contentType !== undefined) event.datacontenttype = contentType;
  if (body !== undefined) event.data = body;
  return event;
}

/** The header or body part to name for an attribute a binary-mode event was refused for. */
export function binaryModeField(field: string): string {
  const attribute = field.split('.')[0] ?? field;
  if (attribute === 'datacontenttype') return 'content-type';
  if (attribute === 'data' || attribute === 'event') return field;
  return `ce-${attribute}`;
}

/**
 * Structured mode may repeat attributes as `ce-*` headers (spec, 3.2): each one must then say
 * what the event in the body says, or the request contradicts itself and is refused.
 */
export function checkStructuredHeaders(ceHeaders: readonly CeHeader[], body: unknown): void {
  for (const [name, { header, value }] of attributesOf(ceHeaders)) {
    const inBody = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>)[name] : undefined;
    if (inBody !== value) {
      const said = inBody === undefined ? `no ${name}` : `${name} ${JSON.stringify(inBody)}`;
      throw headerError('contradictory_ce_header', header, `is ${JSON.stringify(value)} but the event in the body has ${said}`);
    }
  }
}

/** A batch carries each event's attributes inside it: `ce-*` headers there could only contradict them. */
export function refuseBatchHeaders(ceHeaders: readonly CeHeader[]): void {
  const first = ceHeaders[0];
  if (first) throw headerError('contradictory_ce_header', first.name, 'ce-* headers describe one binary-mode event; a batch carries the attributes inside each event');
}
