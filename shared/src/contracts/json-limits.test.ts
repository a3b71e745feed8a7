import { describe, expect, it } from 'vitest';
import { findJsonProblem, isWellFormedUnicode, MAX_DATA_DEPTH } from './json-limits';

/** `{"a":{"a":…{"leaf":1}}}` with `depth` objects, built without recursion. */
function nestedObject(depth: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) inner = { a: inner };
  return inner;
}

describe('isWellFormedUnicode', () => {
  it.each([
    ['', true],
    ['plain ascii', true],
    ['é and 日本', true],
    ['\u{1F600} (a surrogate pair)', true],
    ['\ud800', false],
    ['lone low \udc00 in the middle', false],
    ['reversed pair \ude00\ud83d', false],
    ['high at the end \ud83d', false],
  ])('%j → %s', (s, expected) => {
    expect(isWellFormedUnicode(s)).toBe(expected);
  });
});

describe('findJsonProblem', () => {
  it('counts `data` itself as depth 1 and only containers as levels', () => {
    expect(findJsonProblem({ a: 1 }, 'data', 1)).toBeUndefined();
    expect(findJsonProblem({ a: { b: 1 } }, 'data', 1)?.field).toBe('data');
    expect(findJsonProblem({ a: [[1]] }, 'data', 3)).toBeUndefined();
    expect(findJsonProblem({ a: [[1]] }, 'data', 2)?.reason).toMatch(/at most 2 levels/);
  });

  it('accepts MAX_DATA_DEPTH and refuses one more, arrays included', () => {
    expect(findJsonProblem(nestedObject(MAX_DATA_DEPTH), 'data', MAX_DATA_DEPTH)).toBeUndefined();
    expect(findJsonProblem(nestedObject(MAX_DATA_DEPTH + 1), 'data', MAX_DATA_DEPTH)).toEqual({
      field: 'data',
      reason: expect.stringContaining(`at most ${MAX_DATA_DEPTH} levels`),
    });
    let list: unknown = [];
    for (let i = 1; i < MAX_DATA_DEPTH + 1; i++) list = [list];
    expect(findJsonProblem({ list }, 'data', MAX_DATA_DEPTH)?.field).toBe('data');
  });

  it('walks 1,000,000 levels without overflowing the stack', () => {
    expect(findJsonProblem(nestedObject(1_000_000), 'data', MAX_DATA_DEPTH)?.field).toBe('data');
  });

  it('names the path of a bad string value, escaping nothing it does not need to', () => {
    expect(findJsonProblem({ foo: { bar: 'x\ud800' } }, 'data', 32)?.field).toBe('data.foo.bar');
    expect(findJsonProblem({ items: [1, 'ok', '\udfff'] }, '[3].data', 32)?.field).toBe('[3].data.items[2]');
    expect(findJsonProblem({ 'a b': { 'x.y': '\ud800' } }, 'data', 32)?.field).toBe('data["a b"]["x.y"]');
  });

  it('names the object holding a bad key, with the key escaped in the message', () => {
    const problem = findJsonProblem({ foo: { 'k\udc00': 1 } }, 'data', 32);
    expect(problem?.field).toBe('data.foo');
    expect(problem?.reason).toBe('a key ("k\\udc00") is not well-formed Unicode (it contains a lone surrogate)');
    expect(isWellFormedUnicode(`${problem?.field}: ${problem?.reason}`)).toBe(true);
    expect(findJsonProblem({ '\ud800': 1 }, 'data', 32)?.field).toBe('data');
  });

  it('refuses non-finite numbers, which JSON would store as null', () => {
    expect(findJsonProblem({ n: [1, Infinity] }, 'data', 32)?.field).toBe('data.n[1]');
    expect(findJsonProblem({ n: Number.NaN }, 'data', 32)?.reason).toMatch(/finite/);
  });

  it('reports the first problem in document order', () => {
    expect(findJsonProblem({ a: 'ok', b: '\ud800', c: '\udc00' }, 'data', 32)?.field).toBe('data.b');
  });
});
