import { describe, expect, it } from 'vitest';
import { MAX_COUNT_QUANTITY, usageEvents, type MeterToRecord } from './usage-record';

const sum: MeterToRecord = { slug: 'tokens', status: 'active', eventType: 'llm.tokens', aggregation: 'SUM', valuePath: '$.usage.tokens' };
const count: MeterToRecord = { slug: 'api_calls', status: 'active', eventType: 'api.request', aggregation: 'COUNT', valuePath: '' };
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    const { kind, code, field } = err as { kind: string; code: string; field: string };
    return { kind, code, field };
  }
  throw new Error('expected a refusal');
};

describe('usageEvents: recordUsage as the events a meter reads', () => {
  it('a value meter: one event, the quantity as exact decimal text at its value path, beside the data given', () => {
    const events = usageEvents(sum, { quantity: '12345678901234567890.123456789', id: 'req-1', data: { model: 'large', usage: { cached: 3 } } });
    expect(events).toEqual([{ id: 'req-1', type: 'llm.tokens', data: { model: 'large', usage: { cached: 3, tokens: '12345678901234567890.123456789' } } }]);
  });

  it('a COUNT meter: n events, ids <id>:1 … <id>:n, so a retry with the same id is harmless', () => {
    const events = usageEvents(count, { quantity: '10', id: 'req-2', data: undefined });
    expect(events.map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, i) => `req-2:${i + 1}`));
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['api.request']));
    expect(usageEvents(count, { quantity: '3.000', id: 'r', data: undefined })).toHaveLength(3);
  });

  it('a COUNT quantity that is not a whole number from 1 to the batch limit is refused, naming quantity', () => {
    for (const quantity of ['0', '-1', '2.5', String(MAX_COUNT_QUANTITY + 1)]) {
      expect(refusal(() => usageEvents(count, { quantity, id: 'r', data: undefined })), quantity).toEqual({ kind: 'invalid_argument', code: 'invalid_quantity', field: 'quantity' });
    }
  });

  it('refuses a quantity no meter can hold, a UNIQUE_COUNT or archived meter, a path into an array, and data in the way', () => {
    expect(refusal(() => usageEvents(sum, { quantity: '0.1234567891', id: 'r', data: undefined }))).toMatchObject({ code: 'invalid_quantity', field: 'quantity' });
    expect(refusal(() => usageEvents({ ...sum, aggregation: 'UNIQUE_COUNT' }, { quantity: '1', id: 'r', data: undefined }))).toMatchObject({ code: 'unsupported_aggregation', field: 'metric' });
    expect(refusal(() => usageEvents({ ...sum, status: 'archived' }, { quantity: '1', id: 'r', data: undefined }))).toMatchObject({ code: 'meter_archived', field: 'metric' });
    expect(refusal(() => usageEvents({ ...sum, valuePath: '$.items[0].n' }, { quantity: '1', id: 'r', data: undefined }))).toMatchObject({ code: 'unsupported_value_path', field: 'metric' });
    expect(refusal(() => usageEvents(sum, { quantity: '1', id: 'r', data: { usage: { tokens: 5 } } }))).toMatchObject({ code: 'data_conflicts_with_quantity', field: 'data' });
    expect(refusal(() => usageEvents(sum, { quantity: '1', id: 'r', data: { usage: 'flat' } }))).toMatchObject({ code: 'data_conflicts_with_quantity', field: 'data' });
  });

  it('leaves the caller\'s data object untouched', () => {
    const data = { usage: {} };
    usageEvents(sum, { quantity: '1', id: 'r', data });
    expect(data).toEqual({ usage: {} });
  });
});
