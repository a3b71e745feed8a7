/**
 * Deterministic request generator for the collector fuzz test: the same seed gives the same
 * requests, in the same order, on every machine (event times are relative to the `now` given).
 */

/** mulberry32: tiny, fast, good enough to spread test inputs; never for anything secret. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export interface FuzzRequest {
  kind: string;
  /** undefined: no Content-Type header at all. */
  contentType: string | undefined;
  body: string | Uint8Array;
}

const SINGLE = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
const JSON_TYPES = [SINGLE, SINGLE, 'application/json', 'application/cloudevents+json; charset=utf-8', 'Application/CloudEvents+JSON'];
const ODD_TYPES = [
  undefined, '', 'text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
  'application/json; charset=utf-16', 'application/cloudevents+json; charset=iso-8859-1', 'application/json;;;', '*/*',
  'application/json, text/plain', 'application/cloudevents+json; x="unterminated', 'application/octet-stream',
  'APPLICATION/CLOUDEVENTS-BATCH+JSON', 'application/cloudevents-batch+json; charset=utf-8', 'application/ json', 'json',
];
/** Well-formed but unusual text: every one of these must be stored as sent. */
const ODD_TEXT = ['a', 'é', '日本', '\u{1F600}', '\u0000', '"', '\\', ' ', '\u2028', '\uFFFF', '\u200F', '\t', '\u{10FFFF}'];
const LONE = ['\\ud800', '\\udfff', '\\ud83d', '\\udc00', '\\uDBFF'];
const HUGE = ['1e400', '-1e400', '1e-400', '123456789012345678901234567890', '0.000000000000000000000000001', '9007199254740993', '-0', '1E+308', '2e308', '-9.9e999'];
const WRONG = ['1', '1.5', 'null', 'true', 'false', '[]', '{}', '""', `"${'x'.repeat(600)}"`, '[1,2]', '{"a":1}', '1e400', '-1'];
const TOKENS = ['{', '}', '[', ']', '"', ',', ':', '\\', '\\u', '\\ud800', 'null', '1e999', '-', '0', '"x"', ' ', '\u0000', 'tru', '}}}', ']]]'];
const TYPES = ['api.request', 'llm.tokens', 'storage.gb_hours', 'a:b/c-d_e.f'];

function randomText(rng: Rng, max: number): string {
  let s = '';
  const n = 1 + rng.int(max);
  for (let i = 0; i < n; i++) s += rng.chance(0.7) ? String.fromCharCode(97 + rng.int(26)) : rng.pick(ODD_TEXT);
  return s;
}

function randomValue(rng: Rng, depth: number): unknown {
  const roll = rng.int(depth > 3 ? 5 : 8);
  switch (roll) {
    case 0: return rng.int(1_000_000);
    case 1: return (rng.next() - 0.5) * 1e6;
    case 2: return randomText(rng, 12);
    case 3: return rng.chance(0.5);
    case 4: return null;
    case 5: case 6: return randomData(rng, depth + 1);
    default: return Array.from({ length: rng.int(5) }, () => randomValue(rng, depth + 1));
  }
}

function randomData(rng: Rng, depth = 1): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  const n = rng.int(6);
  for (let i = 0; i < n; i++) data[rng.chance(0.8) ? `k${rng.int(50)}` : randomText(rng, 8)] = randomValue(rng, depth);
  return data;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A valid RFC 3339 time within two months before `now`, in assorted offsets and precisions. */
function validTime(rng: Rng, now: number): string {
  const offsetMin = rng.pick([0, 0, 60, -300, 330, 345, -570, 840, -(23 * 60 + 59)]);
  const ms = now - rng.int(60 * 24 * 3600 * 1000);
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 19);
  const frac = rng.pick(['', '.1', '.123', `.${pad(rng.int(1e6), 6)}`, '.999999999']);
  const zone = offsetMin === 0 ? rng.pick(['Z', 'z', '+00:00', '-00:00']) : `${offsetMin < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`;
  return `${local}${frac}${zone}`;
}

/** Mostly impossible calendar times: month 13, Feb 30, hour 24, offsets past ±23:59, … */
function oddTime(rng: Rng): string {
  const y = rng.pick([0, 1969, 1970, 2000, 2024, 2026, 2100, 9999]);
  return `${pad(y, 4)}-${pad(rng.int(20))}-${pad(rng.int(40))}T${pad(rng.int(30))}:${pad(rng.int(70))}:${pad(rng.int(70))}` +
    `${rng.pick(['', '.5', '.1234567891'])}${rng.pick(['Z', '+24:00', '-23:59', '+00:60', '+05:30', ''])}`;
}

function validEvent(rng: Rng, now: number, seq: number): Record<string, unknown> {
  const event: Record<string, unknown> = {
    specversion: '1.0',
    id: `fz-${seq}-${rng.int(1e9)}${rng.chance(0.2) ? randomText(rng, 4) : ''}`,
    source: rng.chance(0.8) ? 'fuzz' : `fuzz/${randomText(rng, 6)}`,
    type: rng.pick(TYPES),
    subject: rng.chance(0.8) ? `customer-${rng.int(20)}` : randomText(rng, 10),
    data: randomData(rng),
  };
  if (rng.chance(0.7)) event.time = validTime(rng, now);
  if (rng.chance(0.1)) event.datacontenttype = 'application/json';
  return event;
}

/** Nested `[[…]]` or `{"a":{…}}` text, `depth` containers deep, around `leaf`. */
function deepText(rng: Rng, depth: number, leaf = '1'): string {
  if (rng.chance(0.5)) return `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
  if (rng.chance(0.5)) return `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
  return `${'{"a":['.repeat(Math.ceil(depth / 2))}${leaf}${']}'.repeat(Math.ceil(depth / 2))}`;
}

/** Replaces the value of one top-level attribute of an event's JSON text. */
const withAttr = (event: Record<string, unknown>, name: string, rawValue: string) =>
  JSON.stringify({ ...event, [name]: '\u0001placeholder' }).replace('"\\u0001placeholder"', rawValue);

function mutate(rng: Rng, text: string): string {
  let s = text;
  for (let ops = 1 + rng.int(4); ops > 0; ops--) {
    const at = rng.int(s.length + 1);
    switch (rng.int(4)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1 + rng.int(4)); break;
      case 1: s = s.slice(0, at) + rng.pick(TOKENS) + s.slice(at); break;
      case 2: s = s.slice(0, at) + s.slice(at, at + rng.int(20)) + s.slice(at); break;
      default: s = s.slice(0, at) + String.fromCharCode(rng.int(128)) + s.slice(at + 1);
    }
  }
  return s;
}

/** Puts a `\udXXX` escape right after a random quote: inside a key, a value, or breaking both. */
function insertLoneSurrogate(rng: Rng, text: string): string {
  const quotes = [...text.matchAll(/"/g)].map((m) => m.index);
  const at = (rng.pick(quotes) ?? 0) + 1;
  return text.slice(0, at) + rng.pick(LONE) + text.slice(at);
}

/** Inserts bytes that are not UTF-8 (a CESU-8 surrogate, an overlong NUL, 0xFF) into the body. */
function withInvalidUtf8(rng: Rng, text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  const at = rng.int(bytes.length + 1);
  const bad = Buffer.from(rng.pick([[0xff], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]));
  return Buffer.concat([bytes.subarray(0, at), bad, bytes.subarray(at)]);
}

type Generator = (rng: Rng, now: number, seq: number) => FuzzRequest;

const GENERATORS: Array<[weight: number, kind: string, gen: Generator]> = [
  [15, 'valid', (rng, now, seq) => ({ kind: 'valid', contentType: rng.pick(JSON_TYPES), body: JSON.stringify(validEvent(rng, now, seq)) })],
  [10, 'batch', (rng, now, seq) => {
    const events = Array.from({ length: rng.int(30) }, (_, i) => (rng.chance(0.9) ? validEvent(rng, now, seq * 100 + i) : { id: rng.int(9) }));
    return { kind: 'batch', contentType: rng.pick([BATCH, BATCH, 'application/json', SINGLE]), body: JSON.stringify(events) };
  }],
  [1, 'oversized batch', () => ({ kind: 'oversized batch', contentType: BATCH, body: `[${Array(1001).fill('{}').join(',')}]` })],
  [15, 'mutated', (rng, now, seq) => ({ kind: 'mutated', contentType: rng.pick(JSON_TYPES), body: mutate(rng, JSON.stringify(validEvent(rng, now, seq))) })],
  [8, 'truncated', (rng, now, seq) => {
    const text = JSON.stringify(rng.chance(0.7) ? validEvent(rng, now, seq) : [validEvent(rng, now, seq), validEvent(rng, now, seq + 1)]);
    return { kind: 'truncated', contentType: rng.pick([...JSON_TYPES, BATCH]), body: text.slice(0, rng.int(text.length)) };
  }],
  [10, 'lone surrogate', (rng, now, seq) => {
    const text = JSON.stringify(rng.chance(0.8) ? validEvent(rng, now, seq) : [validEvent(rng, now, seq), validEvent(rng, now, seq + 1)]);
    return { kind: 'lone surrogate', contentType: rng.pick(JSON_TYPES), body: insertLoneSurrogate(rng, text) };
  }],
  [10, 'deep', (rng, now, seq) => {
    const depth = rng.chance(0.3) ? 30 + rng.int(6) : 1 + rng.int(5_000);
    const event = validEvent(rng, now, seq);
    const where = rng.int(4);
    const deepData = withAttr(event, 'data', `{"deep":${deepText(rng, depth)}}`);
    const body =
      where === 0 ? deepData
      : where === 1 ? deepText(rng, depth, JSON.stringify(event))
      : where === 2 ? `[${JSON.stringify(validEvent(rng, now, seq + 1))},${deepData}]`
      : withAttr(event, rng.pick(['id', 'subject', 'time']), deepText(rng, depth));
    return { kind: 'deep', contentType: rng.pick([...JSON_TYPES, BATCH]), body };
  }],
  [7, 'huge number', (rng, now, seq) => {
    const event = validEvent(rng, now, seq);
    const body = rng.chance(0.7)
      ? withAttr(event, 'data', `{"tokens":${rng.pick(HUGE)},"n":[${rng.pick(HUGE)}]}`)
      : withAttr(event, rng.pick(['id', 'time', 'specversion', 'subject']), rng.pick(HUGE));
    return { kind: 'huge number', contentType: rng.pick(JSON_TYPES), body };
  }],
  [8, 'wrong type', (rng, now, seq) => {
    const attr = rng.pick(['specversion', 'id', 'source', 'type', 'subject', 'time', 'data', 'datacontenttype']);
    return { kind: 'wrong type', contentType: rng.pick(JSON_TYPES), body: withAttr(validEvent(rng, now, seq), attr, rng.pick(WRONG)) };
  }],
  [5, 'odd content type', (rng, now, seq) => {
    const body = rng.chance(0.6) ? JSON.stringify(validEvent(rng, now, seq)) : mutate(rng, JSON.stringify(validEvent(rng, now, seq)));
    return { kind: 'odd content type', contentType: rng.pick(ODD_TYPES), body };
  }],
  [4, 'invalid utf-8', (rng, now, seq) => ({
    kind: 'invalid utf-8', contentType: rng.pick(JSON_TYPES), body: withInvalidUtf8(rng, JSON.stringify(validEvent(rng, now, seq))),
  })],
  [5, 'odd time', (rng, now, seq) => ({ kind: 'odd time', contentType: rng.pick(JSON_TYPES), body: JSON.stringify({ ...validEvent(rng, now, seq), time: oddTime(rng) }) })],
  [1, 'prototype keys', (rng, now, seq) => ({
    kind: 'prototype keys', contentType: rng.pick(JSON_TYPES),
    body: withAttr(validEvent(rng, now, seq), 'data', rng.pick(['{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '{"a":{"__proto__":1}}'])),
  })],
  [1, 'trivial', (rng) => ({
    kind: 'trivial', contentType: rng.pick(JSON_TYPES), body: rng.pick(['', ' ', 'null', '1', '"s"', '[]', '{}', '[null]', '[[]]', '\u0000', '\ufeff{}']),
  })],
];
const TOTAL_WEIGHT = GENERATORS.reduce((sum, [w]) => sum + w, 0);

/** `count` requests from `seed`, generated up front so concurrency cannot change them. */
export function fuzzRequests(seed: number, count: number, now: number): FuzzRequest[] {
  const rng = new Rng(seed);
  const out: FuzzRequest[] = [];
  for (let seq = 0; seq < count; seq++) {
    let roll = rng.next() * TOTAL_WEIGHT;
    const [, , gen] = GENERATORS.find(([w]) => (roll -= w) < 0) ?? (GENERATORS[0] as (typeof GENERATORS)[number]);
    out.push(gen(rng, now, seq));
  }
  return out;
}
