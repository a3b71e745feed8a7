import { describe, expect, it } from 'vitest';
import { InvalidEventError } from './errors.js';
import { MAX_DATA_BYTES, MAX_DATA_DEPTH } from './event-data.js';
import { prepareEvent } from './prepare-event.js';
import type { TrackEvent } from './types.js';

const now = new Date('2026-03-01T10:00:00.000Z');
const prepare = (event: Partial<TrackEvent> & Record<string, unknown>) => prepareEvent({ type: 'api.request', subject: 'acme', ...event } as TrackEvent, { source: 'app', now, seq: 7 });

function refusal(event: Record<string, unknown>): { field: string | undefined; message: string } {
  try {
    prepare(event);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidEventError);
    const { field, message } = err as InvalidEventError;
    return { field, message };
  }
  throw new Error('expected a refusal');
}

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) value = { inner: value };
  return value;
}

describe('prepareEvent', () => {
  it('fixes the id (a UUID), source and time (now) once, and writes a structured CloudEvent', () => {
    const prepared = prepare({ data: { route: '/v1/search', tokens: 12 } });
    expect(prepared.event).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      source: 'app',
      type: 'api.request',
      subject: 'acme',
      time: '2026-03-01T10:00:00.000Z',
      data: { route: '/v1/search', tokens: 12 },
    });
    expect(JSON.parse(prepared.json)).toEqual({ specversion: '1.0', ...prepared.event });
    expect(prepared.seq).toBe(7);
    expect(prepared.bytes).toBe(Buffer.byteLength(prepared.json));
    expect(prepare({}).event.id).not.toBe(prepared.event.id);
  });

  it('keeps a given id, source and time; a Date is written as RFC 3339', () => {
    const { event } = prepare({ id: 'req-1', source: 'billing', time: new Date(Date.UTC(2026, 0, 31, 12)) });
    expect(event).toMatchObject({ id: 'req-1', source: 'billing', time: '2026-01-31T12:00:00.000Z' });
    expect(prepare({ time: '2026-01-31T13:00:00.123456+01:00' }).event.time).toBe('2026-01-31T13:00:00.123456+01:00');
    expect(prepare({}).json).not.toContain('"data"');
  });

  it('snapshots data at track: changing the object afterwards does not change what is sent', () => {
    const data = { tokens: 1 };
    const prepared = prepare({ data });
    data.tokens = 2;
    expect(JSON.parse(prepared.json).data).toEqual({ tokens: 1 });
  });

  it('writes bigints as exact JSON integers, and counts UTF-8 bytes', () => {
    const prepared = prepare({ data: { tokens: 99999999999999999999n, nested: [-12345678901234567890n], note: 'café 😀' } });
    expect(prepared.json).toContain('"data":{"tokens":99999999999999999999,"nested":[-12345678901234567890],"note":"café 😀"}');
    expect(prepared.bytes).toBe(Buffer.byteLength(prepared.json));
  });

  it.each([
    [{ type: undefined }, 'type', 'type: is required'],
    [{ type: '' }, 'type', 'must be a non-empty string'],
    [{ type: 'api request' }, 'type', 'may contain only letters'],
    [{ type: 'x'.repeat(257) }, 'type', 'at most 256 characters'],
    [{ subject: undefined }, 'subject', 'the customer billed'],
    [{ subject: 42 }, 'subject', 'must be a non-empty string, got 42'],
    [{ subject: 'a\ud800' }, 'subject', 'lone surrogate'],
    [{ id: '' }, 'id', 'non-empty'],
    [{ source: 's'.repeat(513) }, 'source', 'at most 512'],
    [{ time: '2026-01-31 12:00' }, 'time', 'RFC 3339'],
    [{ time: '2026-01-31T12:00:00' }, 'time', 'with a time zone'],
    [{ time: new Date(Number.NaN) }, 'time', 'invalid Date'],
    [{ time: 1_700_000_000_000 }, 'time', 'got number'],
    [{ time: '1969-12-31T23:59:59Z' }, 'time', 'between 1970 and 2100'],
    [{ data: [1, 2] }, 'data', 'plain JSON object'],
    [{ data: 'tokens=1' }, 'data', 'plain JSON object'],
    [{ data: new Map([['tokens', 1]]) }, 'data', 'plain JSON object'],
    [{ data: { usage: { tokens: Number.NaN } } }, 'data.usage.tokens', 'finite number, got NaN'],
    [{ data: { items: [1, Infinity] } }, 'data.items[1]', 'finite number'],
    [{ data: { 'odd key': { set: new Set([1]) } } }, 'data["odd key"].set', 'got a Set'],
    [{ data: { fn: () => 1 } }, 'data.fn', 'got a function'],
    [{ data: { text: 'a\udc00' } }, 'data.text', 'lone surrogate'],
    [{ data: { ['k\ud800']: 1 } }, 'data["k\\ud800"]', 'key is not well-formed'],
  ])('refuses %j naming %s', (event, field, message) => {
    const refused = refusal(event);
    expect(refused.field).toBe(field);
    expect(refused.message).toContain(message);
    expect(refused.message.startsWith(`${field}: `)).toBe(true);
  });

  it(`takes data ${MAX_DATA_DEPTH} levels deep and refuses one more, and a value that refers to itself`, () => {
    expect(() => prepare({ data: nested(MAX_DATA_DEPTH) })).not.toThrow();
    expect(refusal({ data: nested(MAX_DATA_DEPTH + 1) }).message).toContain(`deeper than ${MAX_DATA_DEPTH} levels`);
    const circular: Record<string, unknown> = { tokens: 1 };
    circular.self = circular;
    expect(refusal({ data: circular }).message).toContain('refers to itself');
  });

  it(`refuses data over ${MAX_DATA_BYTES} bytes of UTF-8 JSON, counting multi-byte characters`, () => {
    // 'é' is 2 bytes: {"a":"…"} with 32,764 of them is exactly 65,536 bytes.
    expect(() => prepare({ data: { a: 'é'.repeat(32_764) } })).not.toThrow();
    expect(refusal({ data: { a: 'é'.repeat(32_765) } }).message).toMatch(/at most 65536 bytes of JSON, got 65538/);
  });

  it('leaves undefined values out, as JSON does, and writes a Date in data as its ISO text', () => {
    const prepared = prepare({ data: { kept: 1, missing: undefined, at: new Date(0) } });
    expect(JSON.parse(prepared.json).data).toEqual({ kept: 1, at: '1970-01-01T00:00:00.000Z' });
  });
});
