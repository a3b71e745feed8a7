import { describe, expect, it } from 'vitest';
import { PolarisError } from '../errors';
import { parseJsonExact } from '../contracts/exact-json';
import { formatJsonPath, MAX_PATH_BYTES, MAX_PATH_SEGMENTS, parseJsonPath, readPath, type PathSegment } from './json-path';

function refusal(path: string, field = 'value_path'): PolarisError {
  try {
    parseJsonPath(path, field);
  } catch (err) {
    if (err instanceof PolarisError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(path)} to be refused`);
}

describe('parseJsonPath: the subset', () => {
  it.each<[string, PathSegment[]]>([
    ['$', []],
    ['$.tokens', [{ key: 'tokens' }]],
    ['$.usage.input_tokens', [{ key: 'usage' }, { key: 'input_tokens' }]],
    ['$._a9', [{ key: '_a9' }]],
    ['$["a b"]', [{ key: 'a b' }]],
    ["$['a b']", [{ key: 'a b' }]],
    ['$[""]', [{ key: '' }]],
    ['$[0]', [{ index: 0 }]],
    ['$.items[12].price', [{ key: 'items' }, { index: 12 }, { key: 'price' }]],
    ['$["日本"]', [{ key: '日本' }]],
    ['$["emoji 😀"]', [{ key: 'emoji 😀' }]],
    ['$["a.b"][\'c[0]\']', [{ key: 'a.b' }, { key: 'c[0]' }]],
    ['$["0"]', [{ key: '0' }]],
  ])('%s', (path, segments) => {
    expect(parseJsonPath(path)).toEqual(segments);
  });

  it('reads the escapes \\" \\\' and \\\\ inside quotes, and the other quote as is', () => {
    expect(parseJsonPath(String.raw`$["a\\"]`)).toEqual([{ key: 'a\\' }]);
    expect(parseJsonPath(String.raw`$["say \"hi\""]`)).toEqual([{ key: 'say "hi"' }]);
    expect(parseJsonPath(String.raw`$['it\'s']`)).toEqual([{ key: "it's" }]);
    expect(parseJsonPath(String.raw`$["it's"]`)).toEqual([{ key: "it's" }]);
    expect(parseJsonPath(String.raw`$['say "hi"']`)).toEqual([{ key: 'say "hi"' }]);
    expect(parseJsonPath(String.raw`$["\'"]`)).toEqual([{ key: "'" }]);
  });

  it(`takes up to ${MAX_PATH_BYTES} bytes and ${MAX_PATH_SEGMENTS} steps`, () => {
    expect(parseJsonPath(`$.${'a'.repeat(MAX_PATH_BYTES - 2)}`)).toHaveLength(1);
    expect(parseJsonPath(`$${'.a'.repeat(MAX_PATH_SEGMENTS)}`)).toHaveLength(MAX_PATH_SEGMENTS);
  });
});

describe('parseJsonPath: everything else is refused with invalid_path naming the field', () => {
  it.each<[string, string, RegExp]>([
    ['empty', '', /must not be empty/],
    ['no $', 'tokens', /must start with \$/],
    ['dot first', '.tokens', /must start with \$/],
    ['SQL after a step', "$.a'; DROP TABLE x --", /"'" at character 4/],
    ['SQL in brackets', '$[0]; DROP TABLE events_raw', /";" at character 5/],
    ['SQL as an index', '$[1 OR 1=1]', /needs "\]" at character 4/],
    ['SQL comment', '$.a--', /"-" at character 4/],
    ['a space', '$.a b', /" " at character 4/],
    ['recursive descent', '$..tokens', /recursive descent/],
    ['wildcard', '$.*', /wildcard/],
    ['bracket wildcard', '$.items[*]', /wildcard/],
    ['bare wildcard', '$*', /wildcard/],
    ['filter', '$.items[?(@.price > 1)]', /filter/],
    ['negative index', '$.items[-1]', /negative index/],
    ['slice', '$.items[0:2]', /slices/],
    ['union', '$.items[0,1]', /slices and unions/],
    ['leading zero', '$[01]', /leading zero.*write \[1\]/],
    ['huge index', '$[12345678901]', /index over/],
    ['empty brackets', '$[]', /needs "key", 'key' or an index/],
    ['unquoted key in brackets', '$[tokens]', /needs "key", 'key' or an index/],
    ['unterminated double quote', '$["a', /never closed/],
    ['unterminated single quote', "$['a", /never closed/],
    ['escaped closing quote', String.raw`$["a\"]`, /never closed/],
    ['mismatched quotes', `$["a']`, /never closed/],
    ['missing ]', '$["a"', /needs "\]"/],
    ['junk after the key', '$["a"x]', /needs "\]"/],
    ['unsupported escape', String.raw`$["a\n"]`, /unsupported escape \\n/],
    ['unicode escape', String.raw`$["\u0041"]`, /unsupported escape \\u/],
    ['trailing dot', '$.', /needs a name after "."/],
    ['digit-first name', '$.1abc', /needs a name after "."/],
    ['non-ASCII name without quotes', '$.日本', /needs a name after "."/],
    ['dash in a name', '$.input-tokens', /"-" at character 8/],
    ['root twice', '$$', /"\$" at character 2/],
    ['newline', '$.a\n', /control characters/],
    ['tab in a key', '$["a\tb"]', /control characters/],
    ['NUL', '$["a\u0000"]', /control characters/],
    ['DEL', '$.a\u007f', /control characters/],
    ['C1 control', '$["\u0085"]', /control characters/],
    ['lone surrogate', '$["\udc00"]', /well-formed Unicode/],
    ['10 kB', `$.${'a'.repeat(10_000)}`, /at most 512 bytes/],
    ['513 bytes', `$.${'a'.repeat(MAX_PATH_BYTES - 1)}`, /at most 512 bytes/],
    ['513 bytes in 175 characters', `$["${'日'.repeat(169)}a"]`, /at most 512 bytes/],
    ['33 steps', `$${'.a'.repeat(MAX_PATH_SEGMENTS + 1)}`, /at most 32 steps/],
    ['33 index steps', `$${'[0]'.repeat(MAX_PATH_SEGMENTS + 1)}`, /at most 32 steps/],
  ])('%s', (_name, path, message) => {
    const err = refusal(path, 'dimensions[2].path');
    expect(err).toMatchObject({ kind: 'invalid_argument', code: 'invalid_path', field: 'dimensions[2].path' });
    expect(err.message).toMatch(/^dimensions\[2\]\.path /);
    expect(err.message).toMatch(message);
  });

  it('refuses a non-string (a JavaScript caller)', () => {
    expect(refusal(42 as unknown as string)).toMatchObject({ code: 'invalid_path', field: 'value_path' });
  });

  it('keeps the message readable whatever the input (control characters are quoted)', () => {
    expect(refusal('$.a\u0001b').message.includes('\u0001')).toBe(false);
    expect(refusal('$.a\u0001b').message.length).toBeLessThan(200);
  });

  it('names "path" when no field is given', () => {
    expect(() => parseJsonPath('x')).toThrow(expect.objectContaining({ field: 'path' }));
  });
});

describe('formatJsonPath: one spelling per path', () => {
  it.each([
    ["$['a']", '$.a'],
    ['$["a"]', '$.a'],
    ['$.a', '$.a'],
    ["$['a']['b'][0]", '$.a.b[0]'],
    ['$["a b"]', '$["a b"]'],
    ["$['a b']", '$["a b"]'],
    ["$['say \"hi\"']", String.raw`$["say \"hi\""]`],
    [String.raw`$['it\'s']`, `$["it's"]`],
    [String.raw`$["a\\"]`, String.raw`$["a\\"]`],
    ['$["0"]', '$["0"]'],
    ['$[""]', '$[""]'],
    ['$["日本"]', '$["日本"]'],
    ['$', '$'],
  ])('%s → %s', (path, canonical) => {
    expect(formatJsonPath(parseJsonPath(path))).toBe(canonical);
  });

  it('parses back to the same steps, whatever the keys', () => {
    const keys = ['a', 'a b', '"', "'", '\\', '\\"', 'a"]', '[0]', '', '$', '.', '日本', '😀', 'DROP TABLE x; --', 'a\u2028b'];
    for (const key of keys) {
      const segments: PathSegment[] = [{ key }, { index: 3 }, { key: `${key}x` }];
      expect(parseJsonPath(formatJsonPath(segments))).toEqual(segments);
    }
  });
});

describe('readPath', () => {
  const read = (json: string, path: string) => readPath(parseJsonExact(json), parseJsonPath(path));

  it('reads exactly the path: $.tokens of {"meta":{"tokens":1000},"tokens":5} is 5', () => {
    expect(read('{"meta":{"tokens":1000},"tokens":5}', '$.tokens')).toBe(5);
    expect(read('{"meta":{"tokens":1000},"tokens":5}', '$.meta.tokens')).toBe(1000);
    expect(read('{"meta":{"tokens":1000}}', '$.tokens')).toBeUndefined();
  });

  it('reads array elements, and nothing past the end', () => {
    expect(read('{"items":[{"p":1},{"p":2}]}', '$.items[1].p')).toBe(2);
    expect(read('{"items":[{"p":1}]}', '$.items[1].p')).toBeUndefined();
    expect(read('[10,20]', '$[1]')).toBe(20);
  });

  it('does not mix up keys and indexes', () => {
    expect(read('{"0":"zero"}', '$[0]')).toBeUndefined();
    expect(read('{"0":"zero"}', '$["0"]')).toBe('zero');
    expect(read('["zero"]', '$["0"]')).toBeUndefined();
    expect(read('{"a":[1,2]}', '$.a.length')).toBeUndefined();
    expect(read('{"a":"text"}', '$.a.length')).toBeUndefined();
    expect(read('{"a":"text"}', '$.a[0]')).toBeUndefined();
  });

  it('returns null and other values as they are', () => {
    expect(read('{"a":null}', '$.a')).toBeNull();
    expect(read('{"a":{"b":true}}', '$.a')).toEqual({ b: true });
    expect(read('{"a b":"x","日本":"y"}', '$["a b"]')).toBe('x');
    expect(read('{"a b":"x","日本":"y"}', '$["日本"]')).toBe('y');
  });

  it('reads only own properties: nothing from Object.prototype', () => {
    for (const path of ['$.constructor', '$.__proto__', '$.toString', '$.hasOwnProperty', '$.constructor.name']) {
      expect(read('{}', path)).toBeUndefined();
    }
    expect(read('{"__proto__":{"x":1}}', '$.__proto__.x')).toBe(1);
  });

  it('treats an exact number as a scalar, not as an object with a rawJSON key', () => {
    const data = parseJsonExact('{"n":12345678901234567890}');
    expect(readPath(data, parseJsonPath('$.n'))).toMatchObject({ rawJSON: '12345678901234567890' });
    expect(readPath(data, parseJsonPath('$.n.rawJSON'))).toBeUndefined();
    expect(read('{"o":{"rawJSON":"x"}}', '$.o.rawJSON')).toBe('x');
  });

  it('is undefined for data that is missing or not a container', () => {
    for (const data of [undefined, null, 5, 'text', true]) {
      expect(readPath(data, parseJsonPath('$.a'))).toBeUndefined();
      expect(readPath(data, parseJsonPath('$[0]'))).toBeUndefined();
    }
    expect(readPath(undefined, [])).toBeUndefined();
  });
});
