import { describe, expect, it } from 'vitest';
import { backfillRange } from './backfill-range';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a refusal');
};

describe('backfillRange', () => {
  it('takes whole UTC days, either side unbounded', () => {
    expect(backfillRange(undefined, undefined)).toEqual({ fromMs: null, toMs: null });
    expect(backfillRange(new Date('2024-03-01T00:00:00Z'), new Date('2024-03-02T00:00:00Z'))).toEqual({
      fromMs: Date.UTC(2024, 2, 1),
      toMs: Date.UTC(2024, 2, 2),
    });
    expect(backfillRange(new Date(0), undefined)).toEqual({ fromMs: 0, toMs: null });
  });

  it('refuses a time within a day, naming the field and the day to write', () => {
    expect(refusal(() => backfillRange(new Date('2024-03-01T12:00:00Z'), undefined))).toMatchObject({
      kind: 'invalid_argument',
      field: 'from',
      message: expect.stringContaining('2024-03-01T00:00:00.000Z'),
    });
    expect(refusal(() => backfillRange(undefined, new Date('2024-03-01T00:00:01Z'), { from: 'backfill_from', to: 'to' }))).toMatchObject({ field: 'to' });
    expect(refusal(() => backfillRange(new Date('2024-03-01T00:30:00+01:00'), undefined, { from: 'backfill_from', to: 'to' }))).toMatchObject({
      field: 'backfill_from',
    });
  });

  it('refuses from at or after to', () => {
    const day = new Date('2024-03-01T00:00:00Z');
    expect(refusal(() => backfillRange(day, day))).toMatchObject({ code: 'invalid_backfill_range', field: 'to' });
    expect(refusal(() => backfillRange(new Date('2024-03-02T00:00:00Z'), day))).toMatchObject({ field: 'to' });
  });
});
