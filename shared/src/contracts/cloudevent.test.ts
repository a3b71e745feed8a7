import { describe, expect, it } from 'vitest';
import { PolarisError } from '../errors';
import {
  ANY_EVENT_TIME, checkStorableEvent, MAX_DATA_DEPTH, MAX_EVENT_DATA_BYTES, normalizeCloudEvent, parseEventTime, type NormalizedEvent,
} from './cloudevent';
import { eventMessageSchema } from './events-topic';

const now = Date.UTC(2026, 10, 25, 12, 0, 0);
const valid = {
  specversion: '1.0',
  id: 'evt-1',
  source: 'api-server',
  type: 'api.request',
  subject: 'customer-1',
  time: '2026-11-25T11:59:59.123Z',
  data: { tokens: 12 },
};

function errorOf(input: unknown, path = ''): PolarisError {
  try {
    normalizeCloudEvent(input, now, path);
  } catch (err) {
    if (err instanceof PolarisError) return err;
    throw err;
  }
  throw new Error('expected a validation error');
}

describe('normalizeCloudEvent', () => {
  it('keeps millisecond event time', () => {
    expect(normalizeCloudEvent(valid, now)).toEqual({
      id: 'evt-1', source: 'api-server', type: 'api.request', subject: 'customer-1',
      timeMs: Date.UTC(2026, 10, 25, 11, 59, 59, 123), data: { tokens: 12 },
    });
  });

  it('defaults time to the receive time and data to an empty object', () => {
    const { time: _t, data: _d, ...rest } = valid;
    expect(normalizeCloudEvent(rest, now)).toMatchObject({ timeMs: now, data: {} });
  });

  it('accepts offsets other than Z', () => {
    expect(normalizeCloudEvent({ ...valid, time: '2026-11-25T13:00:00+02:00' }, now).timeMs).toBe(Date.UTC(2026, 10, 25, 11));
  });

  it.each([
    [{ ...valid, specversion: '0.3' }, 'specversion'],
    [{ ...valid, id: '' }, 'id'],
    [{ ...valid, subject: undefined }, 'subject'],
    [{ ...valid, type: 'has space' }, 'type'],
    [{ ...valid, time: 'yesterday' }, 'time'],
    [{ ...valid, time: '2026-11-25T11:59:59' }, 'time'],
    [{ ...valid, time: '2030-01-01T00:00:00Z' }, 'time'],
    [{ ...valid, time: '1969-12-31T23:59:59Z' }, 'time'],
    [{ ...valid, data: [1, 2] }, 'data'],
    [{ ...valid, data: 'text' }, 'data'],
    [{ ...valid, datacontenttype: 'text/plain' }, 'datacontenttype'],
    [{ ...valid, data: { blob: 'x'.repeat(70_000) } }, 'data'],
    ['not an object', 'event'],
  ])('names the bad field (%#)', (input, field) => {
    const err = errorOf(input);
    expect(err.kind).toBe('invalid_argument');
    expect(err.code).toBe('invalid_event');
    expect(err.field).toBe(field);
  });

  it('prefixes the field with the batch position', () => {
    expect(errorOf({ ...valid, id: 42 }, '[3].').field).toBe('[3].id');
  });
});

describe('normalizeCloudEvent: the time window (default 35 days back, 24 hours ahead)', () => {
  const DAY = 24 * 3_600_000;
  const at = (ms: number) => ({ ...valid, time: new Date(ms).toISOString() });
  const refusal = (input: unknown, window?: { maxAgeMs: number; maxFutureMs: number }): PolarisError => {
    try {
      normalizeCloudEvent(input, now, '[7].', window);
    } catch (err) {
      if (err instanceof PolarisError) return err;
      throw err;
    }
    throw new Error('expected the time to be refused');
  };

  it('accepts a late event up to 35 days old, and one up to 24 hours ahead', () => {
    expect(normalizeCloudEvent(at(now - 35 * DAY), now).timeMs).toBe(now - 35 * DAY);
    expect(normalizeCloudEvent(at(now - 34 * DAY), now).timeMs).toBe(now - 34 * DAY);
    expect(normalizeCloudEvent(at(now + DAY), now).timeMs).toBe(now + DAY);
  });

  it('refuses an older one naming the event index and time, and says how far back is allowed', () => {
    const err = refusal(at(now - 35 * DAY - 1));
    expect(err).toMatchObject({ kind: 'invalid_argument', code: 'invalid_event', field: '[7].time' });
    expect(err.message).toBe('[7].time: is more than 35 days in the past; events older than that are not accepted');
  });

  it('refuses one further ahead than the future limit', () => {
    expect(refusal(at(now + DAY + 1)).message).toBe('[7].time: is more than 24 hours in the future');
  });

  it('takes the window it is given, and says its bounds in the message', () => {
    const window = { maxAgeMs: 2 * DAY, maxFutureMs: 90 * 60_000 };
    expect(refusal(at(now - 3 * DAY), window).message).toMatch(/more than 2 days in the past/);
    expect(refusal(at(now + 2 * 3_600_000), window).message).toMatch(/more than 90 minutes in the future/);
    expect(normalizeCloudEvent(at(now - 3 * DAY), now, '', { ...window, maxAgeMs: 4 * DAY }).timeMs).toBe(now - 3 * DAY);
  });

  it('has no window with ANY_EVENT_TIME (the gateway leaves it to the collector), and never one without a time', () => {
    expect(normalizeCloudEvent(at(Date.UTC(1999, 0, 1)), now, '', ANY_EVENT_TIME).timeMs).toBe(Date.UTC(1999, 0, 1));
    const { time: _t, ...untimed } = valid;
    expect(normalizeCloudEvent(untimed, now, '', { maxAgeMs: 0, maxFutureMs: 0 }).timeMs).toBe(now);
  });
});

/** `{"a":{"a":…{"tokens":1}}}` with `depth` objects (data itself is depth 1), built iteratively. */
function nested(depth: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { tokens: 1 };
  for (let i = 1; i < depth; i++) inner = { a: inner };
  return inner;
}

/** Raw JSON text with the `\ud800` escape: valid JSON, invalid Unicode, as a client sends it. */
const rawEvent = (attrs: string) =>
  JSON.parse(`{"specversion":"1.0","id":"e","source":"s","type":"t","subject":"c",${attrs}}`) as Record<string, unknown>;

describe('normalizeCloudEvent: only what the store can hold', () => {
  it.each([
    ['"id":"\\ud800"', 'id'],
    ['"source":"a\\udc00b"', 'source'],
    ['"subject":"\\ud83d"', 'subject'],
    ['"type":"\\ud800"', 'type'],
    ['"datacontenttype":"application/json;x=\\ud800"', 'datacontenttype'],
    ['"data":{"foo":{"bar":"\\ud800"}}', 'data.foo.bar'],
    ['"data":{"list":[1,"\\udfff"]}', 'data.list[1]'],
    ['"data":{"\\ud800":1}', 'data'],
    ['"data":{"foo":{"k\\udc00":1}}', 'data.foo'],
  ])('refuses a lone surrogate: %s', (attrs, field) => {
    const err = errorOf(rawEvent(attrs), '');
    expect(err).toMatchObject({ kind: 'invalid_argument', code: 'invalid_event', field });
    expect(err.message).toMatch(/not well-formed Unicode \(it contains a lone surrogate\)/);
    // The answer itself must be storable and printable: the surrogate shows escaped, if at all.
    expect(/\p{Surrogate}/u.test(err.message)).toBe(false);
  });

  it('says which key is bad, escaped', () => {
    expect(errorOf(rawEvent('"data":{"k\\udc00":1}')).message).toBe('data: a key ("k\\udc00") is not well-formed Unicode (it contains a lone surrogate)');
  });

  it('prefixes the batch position on lone surrogates too', () => {
    expect(errorOf(rawEvent('"subject":"\\ud800"'), '[3].').field).toBe('[3].subject');
    expect(errorOf(rawEvent('"data":{"x":"\\ud800"}'), '[3].').field).toBe('[3].data.x');
  });

  it('keeps well-formed text, surrogate pairs included', () => {
    const ev = normalizeCloudEvent(rawEvent('"data":{"emoji \\ud83d\\ude00":"日本 \\ud83d\\ude00"}'), now);
    expect(ev.data).toEqual({ 'emoji \u{1F600}': '日本 \u{1F600}' });
  });

  it(`accepts data nested exactly ${MAX_DATA_DEPTH} deep and stores it intact`, () => {
    const ev = normalizeCloudEvent({ ...valid, data: nested(MAX_DATA_DEPTH) }, now);
    expect(JSON.stringify(ev.data)).toBe(JSON.stringify(nested(MAX_DATA_DEPTH)));
  });

  it.each([MAX_DATA_DEPTH + 1, 4_109, 4_110, 10_000])('refuses data nested %i deep with a 400 naming data and the limit', (depth) => {
    const err = errorOf({ ...valid, data: nested(depth) }, '[3].');
    expect(err).toMatchObject({ kind: 'invalid_argument', code: 'invalid_event', field: '[3].data' });
    expect(err.message).toContain(`at most ${MAX_DATA_DEPTH} levels`);
  });

  it('refuses deep arrays inside data as well', () => {
    let list: unknown = [1];
    for (let i = 0; i < 10_000; i++) list = [list];
    expect(errorOf({ ...valid, data: { list } }).field).toBe('data');
  });

  it('refuses numbers JSON cannot hold (1e400 parses as Infinity)', () => {
    expect(errorOf(rawEvent('"data":{"tokens":1e400}')).field).toBe('data.tokens');
  });

  it('still checks the size of data once it is known to be shallow', () => {
    const err = errorOf({ ...valid, data: { a: { b: 'x'.repeat(MAX_EVENT_DATA_BYTES) } } });
    expect(err.field).toBe('data');
    expect(err.message).toContain(`${MAX_EVENT_DATA_BYTES} bytes`);
  });
});

describe('parseEventTime: strict RFC 3339 calendar dates', () => {
  const parse = (value: string, field = 'time') => parseEventTime(value, field);
  const refusal = (value: string, field = 'time'): PolarisError => {
    try {
      parse(value, field);
    } catch (err) {
      if (err instanceof PolarisError) return err;
      throw err;
    }
    throw new Error(`expected ${value} to be refused`);
  };

  it.each([
    ['2026-13-01T00:00:00Z', /month 13/],
    ['2026-00-10T00:00:00Z', /month 00/],
    ['2026-01-00T00:00:00Z', /day 00/],
    ['2026-01-32T00:00:00Z', /day 32/],
    ['2026-02-30T00:00:00Z', /day 30 does not exist in 2026-02/],
    ['2026-02-29T00:00:00Z', /day 29 does not exist in 2026-02/],
    ['2100-02-29T00:00:00Z', /day 29/],
    ['2026-04-31T00:00:00Z', /day 31/],
    ['2026-06-01T24:00:00Z', /hour/],
    ['2026-06-01T23:60:00Z', /minute/],
    ['2026-06-01T23:59:60Z', /leap seconds are not accepted/],
    ['2016-12-31T23:59:60Z', /leap seconds/],
    ['2026-06-01T12:00:00+24:00', /offset/],
    ['2026-06-01T12:00:00-23:60', /offset/],
    ['2026-06-01T12:00:00+0200', /RFC 3339/],
    ['2026-06-01 12:00:00Z', /RFC 3339/],
    ['0070-01-01T00:00:00Z', /between 1970 and 2100/],
    ['1969-12-31T23:59:59.999Z', /between 1970 and 2100/],
    ['2100-01-01T00:00:00Z', /between 1970 and 2100/],
  ])('refuses %s', (value, why) => {
    const err = refusal(value);
    expect(err).toMatchObject({ code: 'invalid_event', field: 'time' });
    expect(err.message).toMatch(why);
  });

  it('names the field it was given', () => {
    expect(refusal('2026-02-30T00:00:00Z', '[3].time').field).toBe('[3].time');
    expect(errorOf({ ...valid, time: '2026-02-30T00:00:00Z' }, '[3].').field).toBe('[3].time');
  });

  it.each([
    ['2028-02-29T00:00:00Z', Date.UTC(2028, 1, 29)],
    ['2000-02-29T12:00:00Z', Date.UTC(2000, 1, 29, 12)],
    ['2026-12-31T23:59:59.999Z', Date.UTC(2026, 11, 31, 23, 59, 59, 999)],
    ['2026-06-01T12:00:00+23:59', Date.UTC(2026, 5, 1, 12) - (23 * 60 + 59) * 60_000],
    ['2026-06-01T12:00:00-23:59', Date.UTC(2026, 5, 1, 12) + (23 * 60 + 59) * 60_000],
    ['2026-06-01T12:00:00-00:00', Date.UTC(2026, 5, 1, 12)],
    ['2026-06-01t12:00:00.5z', Date.UTC(2026, 5, 1, 12, 0, 0, 500)],
    ['2026-06-01T12:00:00.123999999Z', Date.UTC(2026, 5, 1, 12, 0, 0, 123)],
    ['1969-12-31T23:00:00-01:00', 0],
  ])('accepts %s', (value, ms) => {
    expect(parse(value)).toBe(ms);
  });

  it('agrees with Date.parse on every valid timestamp, to the millisecond', () => {
    // A fixed LCG: the same 5,000 timestamps every run.
    let seed = 42;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    for (let i = 0; i < 5_000; i++) {
      const [y, mo] = [1971 + next(128), 1 + next(12)];
      const d = 1 + next(new Date(Date.UTC(y, mo, 0)).getUTCDate());
      const frac = ['', '.1', '.12', '.123', '.123456', '.987654321'][next(6)];
      const zone = ['Z', '+00:00', '+05:30', '-08:00', '-23:59', '+14:00'][next(6)];
      const value = `${y}-${pad(mo)}-${pad(d)}T${pad(next(24))}:${pad(next(60))}:${pad(next(60))}${frac}${zone}`;
      expect(parse(value), value).toBe(Date.parse(value));
    }
  });
});

describe('eventMessageSchema: the topic refuses what the store cannot hold', () => {
  const event: NormalizedEvent = { id: 'e', source: 's', type: 't', subject: 'c', timeMs: Date.UTC(2026, 0, 1), data: { tokens: 1 } };
  /** As the sink's decoder reports it: `<field>: <why>`. */
  const detailOf = (json: string): string | undefined => {
    const parsed = eventMessageSchema.safeParse(JSON.parse(json));
    if (parsed.success) return undefined;
    const issue = parsed.error.issues[0];
    return `${issue?.path.join('.')}: ${issue?.message}`;
  };
  const message = (ev: object = event) => `{"v":1,"namespace":"org-1","receivedAt":${Date.UTC(2026, 0, 1)},"event":${JSON.stringify(ev)}}`;
  /** A message around raw event text, so `\ud800` escapes reach JSON.parse as a client wrote them. */
  const rawMessage = (eventText: string) => `{"v":1,"namespace":"org-1","receivedAt":0,"event":${eventText}}`;

  it('accepts a valid message', () => {
    expect(detailOf(message())).toBeUndefined();
    expect(detailOf(message({ ...event, data: nested(MAX_DATA_DEPTH) }))).toBeUndefined();
  });

  it.each([
    ['{"id":"\\ud800","source":"s","type":"t","subject":"c","timeMs":0,"data":{}}', 'event.id'],
    ['{"id":"e","source":"\\ud800","type":"t","subject":"c","timeMs":0,"data":{}}', 'event.source'],
    ['{"id":"e","source":"s","type":"\\ud800","subject":"c","timeMs":0,"data":{}}', 'event.type'],
    ['{"id":"e","source":"s","type":"t","subject":"\\udc00","timeMs":0,"data":{}}', 'event.subject'],
    ['{"id":"e","source":"s","type":"t","subject":"c","timeMs":0,"data":{"foo":{"bar":"\\ud800"}}}', 'event.data.foo.bar'],
    ['{"id":"e","source":"s","type":"t","subject":"c","timeMs":0,"data":{"\\ud800":1}}', 'event.data'],
  ])('refuses a lone surrogate (%#)', (eventText, field) => {
    expect(detailOf(rawMessage(eventText))).toMatch(new RegExp(`^${field.replace(/\./g, '\\.')}: .*not well-formed Unicode`));
  });

  it('refuses a lone surrogate in the namespace', () => {
    expect(detailOf('{"v":1,"namespace":"\\ud800","receivedAt":0,"event":' + JSON.stringify(event) + '}')).toMatch(/^namespace: .*not well-formed/);
  });

  it('refuses data nested 10,000 deep, from raw JSON text, without overflowing the stack', () => {
    // Built as text: JSON.parse in V8 builds any depth; only recursive code would overflow.
    const deep = `${'{"a":'.repeat(9_999)}{}${'}'.repeat(9_999)}`;
    const text = rawMessage(`{"id":"e","source":"s","type":"t","subject":"c","timeMs":0,"data":${deep}}`);
    expect(detailOf(text)).toMatch(new RegExp(`^event\\.data: must be nested at most ${MAX_DATA_DEPTH} levels`));
  });

  it('refuses data over the size limit and times outside 1970–2100', () => {
    expect(detailOf(message({ ...event, data: { blob: 'x'.repeat(MAX_EVENT_DATA_BYTES) } }))).toMatch(/^event\.data: must be at most 65536 bytes/);
    expect(detailOf(message({ ...event, timeMs: Date.UTC(2100, 0, 1) }))).toMatch(/^event\.time: must be between 1970 and 2100/);
    expect(detailOf(message({ ...event, timeMs: 1.5 }))).toMatch(/^event\.timeMs: /);
    expect(detailOf(`{"v":1,"namespace":"o","receivedAt":${Date.UTC(2200, 0, 1)},"event":${JSON.stringify(event)}}`)).toMatch(/^receivedAt: /);
  });

  it('uses the very check the collector uses', () => {
    expect(checkStorableEvent(event)).toBeUndefined();
    expect(checkStorableEvent({ ...event, data: nested(MAX_DATA_DEPTH + 1) }, '[2].')).toEqual({
      field: '[2].data',
      reason: expect.stringContaining(`at most ${MAX_DATA_DEPTH}`),
    });
  });
});
