import { describe, expect, it } from 'vitest';
import { sqlDateTime, sqlIdentifier, sqlString, sqlStringList, sqlUInt } from './sql-literal';

describe('sqlString', () => {
  it('quotes plain text', () => expect(sqlString('abc')).toBe("'abc'"));
  it('escapes quotes and backslashes so the literal cannot be closed early', () => {
    expect(sqlString("o'clock")).toBe("'o\\'clock'");
    expect(sqlString('back\\slash')).toBe("'back\\\\slash'");
    expect(sqlString("\\' OR 1=1 --")).toBe("'\\\\\\' OR 1=1 --'");
  });
  it('keeps unicode and newlines inside the literal', () => expect(sqlString('é\n')).toBe("'é\n'"));
});

describe('sqlUInt', () => {
  it('renders integers', () => {
    expect(sqlUInt(42)).toBe('42');
    expect(sqlUInt(2n ** 63n)).toBe('9223372036854775808');
  });
  it.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])('refuses %s', (v) => expect(() => sqlUInt(v)).toThrow(RangeError));
});

describe('sqlDateTime', () => {
  it('truncates milliseconds to seconds in UTC', () => expect(sqlDateTime(1_700_000_000_999)).toBe("toDateTime(1700000000, 'UTC')"));
});

describe('sqlStringList', () => {
  it('renders an IN list', () => expect(sqlStringList(['a', "b'"])).toBe("('a', 'b\\'')"));
  it('refuses an empty list', () => expect(() => sqlStringList([])).toThrow(RangeError));
});

describe('sqlIdentifier', () => {
  it('passes allowed names', () => expect(sqlIdentifier('hour', ['hour', 'day'] as const)).toBe('hour'));
  it('refuses anything else', () => expect(() => sqlIdentifier('hour; DROP', ['hour'] as const)).toThrow(RangeError));
});
