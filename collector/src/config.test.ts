import { describe, expect, it } from 'vitest';
import { loadCollectorConfig } from './config';

const required = { INTERNAL_AUTH_SECRET: 'x'.repeat(32) };

describe('collector config: time rules and rate limits', () => {
  it('defaults to 35 days back, 24 hours ahead, 5,000 events/s with bursts of 20,000, 60 s of fail-open', () => {
    expect(loadCollectorConfig(required)).toMatchObject({
      EVENT_MAX_AGE_DAYS: 35,
      EVENT_MAX_FUTURE_HOURS: 24,
      REDIS_URL: 'redis://127.0.0.1:56379',
      RATE_LIMIT_EVENTS_PER_SECOND: 5_000,
      RATE_LIMIT_BURST: 20_000,
      RATE_LIMIT_REDIS_GRACE_MS: 60_000,
    });
  });

  it('takes 0 for no default limit, whatever the burst', () => {
    expect(loadCollectorConfig({ ...required, RATE_LIMIT_EVENTS_PER_SECOND: '0', RATE_LIMIT_BURST: '1' }).RATE_LIMIT_EVENTS_PER_SECOND).toBe(0);
  });

  it('refuses a burst below the rate, a non-Redis URL and a zero age, naming each variable', () => {
    for (const variable of ['REDIS_URL', 'EVENT_MAX_AGE_DAYS']) {
      expect(() => loadCollectorConfig({ ...required, [variable]: variable === 'REDIS_URL' ? 'http://x' : '0' })).toThrow(new RegExp(variable));
    }
    expect(() => loadCollectorConfig({ ...required, RATE_LIMIT_EVENTS_PER_SECOND: '10000', RATE_LIMIT_BURST: '5000' })).toThrow(/RATE_LIMIT_BURST: must be at least RATE_LIMIT_EVENTS_PER_SECOND \(10000\)/);
  });
});

describe('collector config: compression', () => {
  it('sends uncompressed by default, takes gzip, and refuses a codec the sink-worker cannot decode', () => {
    expect(loadCollectorConfig(required).PUBLISH_COMPRESSION).toBe('none');
    expect(loadCollectorConfig({ ...required, PUBLISH_COMPRESSION: 'gzip' }).PUBLISH_COMPRESSION).toBe('gzip');
    expect(() => loadCollectorConfig({ ...required, PUBLISH_COMPRESSION: 'lz4' })).toThrow(/PUBLISH_COMPRESSION/);
  });
});
