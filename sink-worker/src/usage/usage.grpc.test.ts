import { describe, expect, it } from 'vitest';
import { Aggregation, WindowSize, type UsageQueryRequest } from '@polaris/proto';
import { toUsageQuery } from './usage.grpc';

const request = (over: Partial<UsageQueryRequest> = {}): UsageQueryRequest => ({
  organizationId: '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11',
  eventType: 'tokens',
  from: new Date(Date.UTC(2026, 2, 1)),
  to: new Date(Date.UTC(2026, 2, 2)),
  windowSize: WindowSize.WINDOW_SIZE_UNSPECIFIED,
  aggregation: Aggregation.AGGREGATION_COUNT,
  valueProperty: '',
  subjects: [],
  groupBySubject: false,
  ...over,
});

describe('toUsageQuery (proto → domain)', () => {
  it.each([
    [WindowSize.WINDOW_SIZE_UNSPECIFIED, 'none'],
    [WindowSize.WINDOW_SIZE_MINUTE, 'minute'],
    [WindowSize.WINDOW_SIZE_HOUR, 'hour'],
    [WindowSize.WINDOW_SIZE_DAY, 'day'],
  ] as const)('window size %s is %s', (proto, domain) => {
    expect(toUsageQuery(request({ windowSize: proto })).windowSize).toBe(domain);
  });

  it('refuses a window size it does not know', () => {
    expect(() => toUsageQuery(request({ windowSize: WindowSize.UNRECOGNIZED }))).toThrow(expect.objectContaining({ code: 'invalid_window_size', field: 'window_size' }));
  });

  it('sums only with a value property, and counts without one', () => {
    expect(toUsageQuery(request({ aggregation: Aggregation.AGGREGATION_SUM, valueProperty: 'n' })).valueProperty).toBe('n');
    expect(toUsageQuery(request({ valueProperty: 'n' }))).not.toHaveProperty('valueProperty');
  });
});
