import { describe, expect, it } from 'vitest';
import { WindowSize } from '@polaris/proto';
import { fakeSystem } from '../test-support/fake-backends';

const FROM = '2026-01-01T00:00:00.000Z';
const TO = '2026-01-03T00:00:00.000Z';
const day = (d: number) => new Date(Date.parse(FROM) + d * 86_400_000);

/**
 * A Usage service answering a COUNT meter: two daily rows for a DAY query, one row otherwise. It
 * notes how many QueryMeter requests had arrived when it answered the first one: 2 means the
 * gateway sent them side by side, 1 that it waited for the first answer.
 */
function usageSystem() {
  let arrivedAtFirstAnswer: number | undefined;
  const system = fakeSystem(['usage:read'], {
    'usage.queryMeter': (req) => {
      arrivedAtFirstAnswer ??= system.requests.get('usage.queryMeter')?.length;
      const rows =
        req.windowSize === WindowSize.WINDOW_SIZE_DAY
          ? [0, 1].map((d) => ({ windowStart: day(d), windowEnd: day(d + 1), subject: '', dimensions: {}, value: String(10 + d), eventCount: '1', invalidCount: '0' }))
          : [{ windowStart: day(0), windowEnd: day(2), subject: '', dimensions: {}, value: '21', eventCount: '2', invalidCount: '0' }];
      return { meterSlug: req.meterSlug, meterVersionId: '1', aggregation: 'COUNT', rows, invalidCount: '0', complete: true };
    },
  });
  return { ...system, arrivedAtFirstAnswer: () => arrivedAtFirstAnswer };
}

const windowSizes = (system: ReturnType<typeof usageSystem>) => (system.requests.get('usage.queryMeter') ?? []).map((r) => r.windowSize);

describe('usage(metric, windowSize) with its total', () => {
  it('asks the windows and the whole period side by side, and answers both', async () => {
    const system = usageSystem();
    const res = await system.post(`{ usage(metric: "api_calls", from: "${FROM}", to: "${TO}", windowSize: DAY) { total rows { value } } }`);
    expect(res.body).toEqual({ data: { usage: { total: '21', rows: [{ value: '10' }, { value: '11' }] } } });
    expect(windowSizes(system).sort()).toEqual([WindowSize.WINDOW_SIZE_UNSPECIFIED, WindowSize.WINDOW_SIZE_DAY].sort());
    expect(system.arrivedAtFirstAnswer()).toBe(2);
  });

  it('finds `total` under an alias and in fragments', async () => {
    const system = usageSystem();
    const res = await system.post(
      `{ usage(metric: "api_calls", from: "${FROM}", to: "${TO}", windowSize: DAY) { ...Timeline } }
       fragment Timeline on MeterUsage { rows { value } ... on MeterUsage { sum: total } }`,
    );
    expect(res.body).toEqual({ data: { usage: { rows: [{ value: '10' }, { value: '11' }], sum: '21' } } });
    expect(system.arrivedAtFirstAnswer()).toBe(2);
  });

  it('asks once when the total is not selected, or when the query already is the whole period', async () => {
    const windowsOnly = usageSystem();
    await windowsOnly.post(`{ usage(metric: "api_calls", from: "${FROM}", to: "${TO}", windowSize: DAY) { rows { value } } }`);
    expect(windowSizes(windowsOnly)).toEqual([WindowSize.WINDOW_SIZE_DAY]);
    const whole = usageSystem();
    const res = await whole.post(`{ usage(metric: "api_calls", from: "${FROM}", to: "${TO}") { total rows { value } } }`);
    expect(res.body).toEqual({ data: { usage: { total: '21', rows: [{ value: '21' }] } } });
    expect(windowSizes(whole)).toEqual([WindowSize.WINDOW_SIZE_UNSPECIFIED]);
  });
});
