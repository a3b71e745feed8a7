import { describe, expect, it } from 'vitest';
import { partitionLag } from './consumer-lag';

describe('partitionLag', () => {
  it('is the high watermark minus the committed offset', () => {
    expect(partitionLag({ partition: 0, low: '0', high: '120', committed: '100' })).toBe(20n);
    expect(partitionLag({ partition: 0, low: '0', high: '100', committed: '100' })).toBe(0n);
  });

  it('counts everything still kept when the group never committed', () => {
    expect(partitionLag({ partition: 1, low: '40', high: '100', committed: '-1' })).toBe(60n);
    expect(partitionLag({ partition: 1, low: '40', high: '100', committed: undefined })).toBe(60n);
  });

  it('does not count messages retention already deleted', () => {
    expect(partitionLag({ partition: 2, low: '500', high: '600', committed: '10' })).toBe(100n);
  });

  it('is never negative (a commit read after a newer watermark) and exact past 2^53', () => {
    expect(partitionLag({ partition: 3, low: '0', high: '5', committed: '7' })).toBe(0n);
    expect(partitionLag({ partition: 4, low: '0', high: '9007199254740999', committed: '9007199254740990' })).toBe(9n);
  });
});
