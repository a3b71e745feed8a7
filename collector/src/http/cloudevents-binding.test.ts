import { describe, expect, it } from 'vitest';
import { PolarisError } from '@polaris/shared/errors';
import {
  bindingMode, binaryModeEvent, binaryModeField, ceHeadersOf, checkStructuredHeaders, mediaTypeOf, refuseBatchHeaders, type CeHeader,
} from './cloudevents-binding';

const BINARY = ['ce-specversion', '1.0', 'ce-id', 'e-1', 'ce-source', '/api', 'ce-type', 'api.request', 'ce-subject', 'customer-1'];
const headers = (...raw: string[]): CeHeader[] => ceHeadersOf(raw);

function refusal(run: () => unknown): PolarisError {
  try {
    run();
  } catch (err) {
    if (err instanceof PolarisError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('the mode of a request (CloudEvents HTTP binding)', () => {
  it.each([
    ['application/cloudevents+json; charset=utf-8', [], 'structured'],
    ['Application/CloudEvents+JSON', ['ce-id', 'x'], 'structured'],
    ['application/cloudevents-batch+json', [], 'batched'],
    ['application/json; charset=utf-8', ['Ce-Id', 'x'], 'binary'],
    ['application/vnd.acme+json', ['ce-specversion', '1.0'], 'binary'],
    ['application/json', [], 'json'],
    [undefined, [], 'json'],
  ] as const)('%s with headers %j is %s', (contentType, raw, mode) => {
    expect(bindingMode(mediaTypeOf(contentType), headers(...raw))).toBe(mode);
  });

  it('reads ce-* headers case-insensitively, keeps repeated ones apart and ignores the rest', () => {
    expect(ceHeadersOf(['CE-ID', 'a', 'content-type', 'application/json', 'ce-id', 'b', 'Ce-Foo', 'x', 'cease', 'no'])).toEqual([
      { name: 'ce-id', values: ['a', 'b'] },
      { name: 'ce-foo', values: ['x'] },
    ]);
  });
});

describe('binary mode', () => {
  it('turns the headers into attributes, Content-Type into datacontenttype and the body into data, extensions included', () => {
    const event = binaryModeEvent(headers(...BINARY, 'ce-time', '2026-11-27T10:00:00Z', 'ce-traceparent', '00-abc', 'ce-region', 'eu'), 'application/json; charset=utf-8', { tokens: 5 });
    expect(event).toEqual({
      specversion: '1.0', id: 'e-1', source: '/api', type: 'api.request', subject: 'customer-1', time: '2026-11-27T10:00:00Z',
      traceparent: '00-abc', region: 'eu', datacontenttype: 'application/json; charset=utf-8', data: { tokens: 5 },
    });
  });

  it('has no data when the body is empty', () => {
    expect(binaryModeEvent(headers(...BINARY), 'application/json', undefined)).not.toHaveProperty('data');
  });

  it('percent-decodes values as UTF-8 (spec 3.1.3.2)', () => {
    const event = binaryModeEvent(headers(...BINARY.slice(0, -2), 'ce-subject', 'caf%C3%A9 %F0%9F%98%80 100%25'), 'application/json', {});
    expect(event.subject).toBe('café 😀 100%');
  });

  it.each([
    [BINARY.filter((_, i) => i < 2 || i > 3), 'missing_ce_header', 'ce-id', /ce-id: required in binary mode \(the event id\)/],
    [BINARY.slice(0, -2), 'missing_ce_header', 'ce-subject', /the customer the usage is billed to/],
    [BINARY.slice(2), 'missing_ce_header', 'ce-specversion', /"1.0"/],
    [[...BINARY, 'ce-id', 'e-2'], 'duplicate_ce_header', 'ce-id', /sent more than once/],
    [[...BINARY, 'ce-datacontenttype', 'application/json'], 'contradictory_ce_header', 'ce-datacontenttype', /Content-Type header/],
    [[...BINARY, 'ce-data', '{}'], 'contradictory_ce_header', 'ce-data', /request body/],
    [[...BINARY, 'ce-my-ext', 'x'], 'invalid_ce_header', 'ce-my-ext', /lower-case letters and digits/],
    [[...BINARY, 'ce-averyveryverylongextension', 'x'], 'invalid_ce_header', 'ce-averyveryverylongextension', /1 to 20/],
    [[...BINARY.slice(0, -2), 'ce-subject', 'caf\u00e9'], 'invalid_ce_header', 'ce-subject', /percent-encode/],
    [[...BINARY.slice(0, -2), 'ce-subject', '100%'], 'invalid_ce_header', 'ce-subject', /percent-encoded UTF-8/],
    [[...BINARY.slice(0, -2), 'ce-subject', '%ED%A0%80'], 'invalid_ce_header', 'ce-subject', /percent-encoded UTF-8/],
  ])('refuses %j with %s naming %s', (raw, code, field, why) => {
    const err = refusal(() => binaryModeEvent(headers(...raw), 'application/json', {}));
    expect(err).toMatchObject({ kind: 'invalid_argument', code, field });
    expect(err.message).toMatch(why);
  });

  it('names the header an attribute came from, Content-Type for datacontenttype, and data paths as they are', () => {
    expect(binaryModeField('id')).toBe('ce-id');
    expect(binaryModeField('time')).toBe('ce-time');
    expect(binaryModeField('datacontenttype')).toBe('content-type');
    expect(binaryModeField('data')).toBe('data');
    expect(binaryModeField('data.usage.model')).toBe('data.usage.model');
  });
});

describe('ce-* headers beside structured and batched bodies', () => {
  const event = { specversion: '1.0', id: 'e-1', source: '/api', type: 'api.request', subject: 'c', region: 'eu' };

  it('lets structured mode repeat attributes as headers when they agree', () => {
    expect(() => checkStructuredHeaders(headers('ce-id', 'e-1', 'ce-region', 'eu'), event)).not.toThrow();
  });

  it.each([
    [['ce-id', 'e-2'], 'ce-id', /is "e-2" but the event in the body has id "e-1"/],
    [['ce-time', '2026-01-01T00:00:00Z'], 'ce-time', /the event in the body has no time/],
    [['ce-id', 'e-1', 'ce-id', 'e-1'], 'ce-id', /more than once/],
  ])('refuses structured %j naming %s', (raw, field, why) => {
    const err = refusal(() => checkStructuredHeaders(headers(...raw), event));
    expect(err).toMatchObject({ field });
    expect(err.message).toMatch(why);
  });

  it('refuses any ce-* header beside a batch, naming it', () => {
    expect(() => refuseBatchHeaders([])).not.toThrow();
    expect(refusal(() => refuseBatchHeaders(headers('ce-type', 'x')))).toMatchObject({ code: 'contradictory_ce_header', field: 'ce-type' });
  });
});
