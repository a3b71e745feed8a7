import { describe, expect, it } from 'vitest';
import { PolarisError } from '../errors';
import { normalizeCloudEvent } from './cloudevent';

const now = Date.UTC(2026, 10, 25, 12, 0, 0);
const valid = {
  specversion: '1.0',
  id: 'evt-1',
  source: 'api-server',
  type: 'api.request',
  subject: 'customer-1',
  time: '2026-11-25T11:59:59.123Z',
  data: { tokens: 12 },
};

function errorOf(input: unknown, path = ''): PolarisError {
  try {
    normalizeCloudEvent(input, now, path);
  } catch (err) {
    if (err instanceof PolarisError) return err;
    throw err;
  }
  throw new Error('expected a validation error');
}

describe('normalizeCloudEvent', () => {
  it('keeps millisecond event time', () => {
    expect(normalizeCloudEvent(valid, now)).toEqual({
      id: 'evt-1', source: 'api-server', type: 'api.request', subject: 'customer-1',
      timeMs: Date.UTC(2026, 10, 25, 11, 59, 59, 123), data: { tokens: 12 },
    });
  });

  it('defaults time to the receive time and data to an empty object', () => {
    const { time: _t, data: _d, ...rest } = valid;
    expect(normalizeCloudEvent(rest, now)).toMatchObject({ timeMs: now, data: {} });
  });

  it('accepts offsets other than Z', () => {
    expect(normalizeCloudEvent({ ...valid, time: '2026-11-25T13:00:00+02:00' }, now).timeMs).toBe(Date.UTC(2026, 10, 25, 11));
  });

  it.each([
    [{ ...valid, specversion: '0.3' }, 'specversion'],
    [{ ...valid, id: '' }, 'id'],
    [{ ...valid, subject: undefined }, 'subject'],
    [{ ...valid, type: 'has space' }, 'type'],
    [{ ...valid, time: 'yesterday' }, 'time'],
    [{ ...valid, time: '2026-11-25T11:59:59' }, 'time'],
    [{ ...valid, time: '2030-01-01T00:00:00Z' }, 'time'],
    [{ ...valid, time: '1969-12-31T23:59:59Z' }, 'time'],
    [{ ...valid, data: [1, 2] }, 'data'],
    [{ ...valid, data: 'text' }, 'data'],
    [{ ...valid, datacontenttype: 'text/plain' }, 'datacontenttype'],
    [{ ...valid, data: { blob: 'x'.repeat(70_000) } }, 'data'],
    ['not an object', 'event'],
  ])('names the bad field (%#)', (input, field) => {
    const err = errorOf(input);
    expect(err.kind).toBe('invalid_argument');
    expect(err.code).toBe('invalid_event');
    expect(err.field).toBe(field);
  });

  it('prefixes the field with the batch position', () => {
    expect(errorOf({ ...valid, id: 42 }, '[3].').field).toBe('[3].id');
  });
});
