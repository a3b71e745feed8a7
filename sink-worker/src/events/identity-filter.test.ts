import { describe, expect, it } from 'vitest';
import { identityHash } from '@polaris/clickhouse';
import { IdentityFilter, MIN_SEGMENT_ITEMS } from './identity-filter';

const hashes = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => identityHash('org', 'src', `${prefix}-${i}`));

describe('IdentityFilter', () => {
  it('holds every identity added (no false "no"), and rules out about 99% of the others', () => {
    const filter = new IdentityFilter(100_000);
    const added = hashes('in', 100_000);
    for (const h of added) filter.add(h);
    expect(added.every((h) => filter.mightHold(h))).toBe(true);
    const others = hashes('out', 100_000);
    const falsePositives = others.filter((h) => filter.mightHold(h)).length / others.length;
    expect(falsePositives).toBeLessThan(0.015);
  });

  it('grows past its expected size by adding segments, still exact for what was added', () => {
    const filter = new IdentityFilter(0);
    const added = hashes('grow', MIN_SEGMENT_ITEMS * 5);
    for (const h of added) filter.add(h);
    expect(filter.count).toBe(added.length);
    expect(added.every((h) => filter.mightHold(h))).toBe(true);
    const others = hashes('other', 50_000);
    expect(others.filter((h) => filter.mightHold(h)).length / others.length).toBeLessThan(0.04);
  });

  it('costs about 1.25 bytes per identity when sized from the rebuild', () => {
    const filter = new IdentityFilter(1_000_000);
    expect(filter.bytes / 1_000_000).toBeGreaterThan(1.2);
    expect(filter.bytes / 1_000_000).toBeLessThan(1.7);
  });
});
