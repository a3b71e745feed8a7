import { describe, expect, it } from 'vitest';
import { approximateNumber, isRawJsonNumber, mayLosePrecision, parseJsonExact } from './exact-json';

// Node 24 (the runtime of the image, the local stack and CI) has JSON.parse source text.
const supported = typeof (JSON as unknown as { rawJSON?: unknown }).rawJSON === 'function';

describe('parseJsonExact', () => {
  it('runs on a Node.js with JSON.parse source text (24+: the image, the local stack and CI)', () => {
    expect(supported).toBe(true);
  });

  it.each([
    '99999999999999999999',
    '99999999999999999999.123456789',
    '0.1234567890123456789',
    '12345678901234567890',
    '-1.2345678901234567890e3',
  ])('keeps %s exactly as written, through JSON.stringify', (text) => {
    const parsed = parseJsonExact(`{"v":${text},"nested":[{"w":${text}}]}`) as { v: unknown };
    expect(JSON.stringify(parsed)).toBe(`{"v":${text},"nested":[{"w":${text}}]}`);
    expect(isRawJsonNumber(parsed.v)).toBe(true);
  });

  it('leaves numbers that print back the same as plain numbers', () => {
    const parsed = parseJsonExact('{"a":1,"b":0.1,"c":-12.5,"e":123456789012345}') as Record<string, unknown>;
    expect(parsed).toEqual({ a: 1, b: 0.1, c: -12.5, e: 123456789012345 });
    expect(Object.values(parsed).every((v) => typeof v === 'number')).toBe(true);
  });

  it('parses short numbers as plain floats, whatever their spelling (no digit is lost)', () => {
    expect(parseJsonExact('[2.50, 1E3, -0, 1e400]')).toEqual([2.5, 1000, -0, Infinity]);
  });

  it('leaves strings that look like numbers alone', () => {
    expect(parseJsonExact('{"a":"99999999999999999999"}')).toEqual({ a: '99999999999999999999' });
  });

  it('gives up on exactness, not on parsing, for JSON nested deeper than the stack (the depth limit refuses it)', () => {
    const deep = `${'['.repeat(100_000)}12345678901234567890${']'.repeat(100_000)}`;
    expect(() => parseJsonExact(deep)).not.toThrow();
  });

  it('gives a float only for range checks', () => {
    const parsed = parseJsonExact('[1e400, 5]') as Array<number | { rawJSON: string }>;
    expect(approximateNumber(parsed[0] as { rawJSON: string })).toBe(Infinity);
    expect(approximateNumber(parsed[1] as number)).toBe(5);
  });
});

describe('mayLosePrecision', () => {
  /** The same rule checked at every character. */
  const everyCharacter = /[\d.]{16}/;
  /** The regex it replaced: every text that one flagged must still be flagged. */
  const replaced = /\d[\d.]{15,}/;

  it('flags a run of 16 digits or dots wherever it starts, and no shorter run', () => {
    for (let pad = 0; pad < 40; pad++) {
      for (const run of ['1234567890123456', '1234567.89012345', '12345678901234567890123', '9'.repeat(40)]) {
        expect(mayLosePrecision(`${'x'.repeat(pad)}${run}"}`), `pad ${pad}, ${run}`).toBe(true);
      }
      expect(mayLosePrecision(`${'x'.repeat(pad)}123456789012345"}`)).toBe(false);
      expect(mayLosePrecision(`${'x'.repeat(pad)}123456789012345,123456789012345,1.2345678901234`)).toBe(false);
    }
  });

  it('agrees with a check of every character on random texts of digits, dots and other characters', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 5_000; n++) {
      const length = Math.floor(random() * 120);
      let text = '';
      for (let i = 0; i < length; i++) text += random() < 0.93 ? String(Math.floor(random() * 10)) : random() < 0.5 ? '.' : ',';
      expect(mayLosePrecision(text), text).toBe(everyCharacter.test(text));
      if (replaced.test(text)) expect(mayLosePrecision(text), text).toBe(true);
    }
  });
});
