import { describe, expect, it } from 'vitest';
import { canonicalJson, linesHash } from './lines-hash';

const line = { lineKey: 'api', kind: 'usage', amount: '1.00', usagePeriodStart: new Date('2026-03-01T05:00:00Z'), tiers: [{ tier: 1, amount: '1' }] };

describe('linesHash', () => {
  it('depends on values only: key order and undefined fields do not matter', () => {
    const a = linesHash({ currency: 'USD', subtotal: '1.00', total: '1.00', lines: [line] });
    const reordered = { tiers: [{ amount: '1', tier: 1 }], usagePeriodStart: new Date('2026-03-01T05:00:00Z'), amount: '1.00', kind: 'usage', lineKey: 'api', note: undefined };
    expect(linesHash({ total: '1.00', lines: [reordered], subtotal: '1.00', currency: 'USD' })).toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with any value, line order included', () => {
    const base = linesHash({ currency: 'USD', subtotal: '1.00', total: '1.00', lines: [line, { ...line, lineKey: 'b' }] });
    expect(linesHash({ currency: 'USD', subtotal: '1.00', total: '1.00', lines: [{ ...line, lineKey: 'b' }, line] })).not.toBe(base);
    expect(linesHash({ currency: 'USD', subtotal: '1.00', total: '1.0', lines: [line, { ...line, lineKey: 'b' }] })).not.toBe(base);
    expect(linesHash({ currency: 'USD', subtotal: '1.00', total: '1.00', lines: [line, { ...line, lineKey: 'b', usagePeriodStart: new Date(1) }] })).not.toBe(base);
  });

  it('hashes only the lines and totals, and spells the canonical JSON plainly', () => {
    const invoice = { currency: 'USD', subtotal: '0.00', total: '0.00', lines: [] };
    expect(linesHash({ ...invoice, id: 'x' } as typeof invoice)).toBe(linesHash(invoice));
    expect(canonicalJson({ b: [undefined, { d: 1, c: new Date(0) }], a: 'x' })).toBe('{"a":"x","b":[null,{"c":"1970-01-01T00:00:00.000Z","d":1}]}');
  });

  it('refuses money as a float', () => {
    expect(() => linesHash({ currency: 'USD', subtotal: '1.00', total: '1.00', lines: [{ amount: 0.1 }] })).toThrow(/decimal text/);
  });
});
