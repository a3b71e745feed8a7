import { describe, expect, it } from 'vitest';
import { limitsChange } from './organization-limits';

describe('org limits flags', () => {
  it('shows without flags, clears with --clear, sets with --events-per-second (burst defaults to the rate)', () => {
    expect(limitsChange({})).toEqual({ kind: 'show' });
    expect(limitsChange({ clear: true })).toEqual({ kind: 'clear' });
    expect(limitsChange({ eventsPerSecond: '500' })).toEqual({ kind: 'set', eventsPerSecond: 500, burst: 500 });
    expect(limitsChange({ eventsPerSecond: ' 500 ', burst: '2000' })).toEqual({ kind: 'set', eventsPerSecond: 500, burst: 2_000 });
  });

  it.each([
    [{ clear: true, eventsPerSecond: '5' }, /--clear, or --events-per-second/],
    [{ burst: '10' }, /--burst needs --events-per-second/],
    [{ eventsPerSecond: '1.5' }, /--events-per-second takes a whole number of events, not "1.5"/],
    [{ eventsPerSecond: '-3' }, /--events-per-second takes a whole number/],
    [{ eventsPerSecond: 'lots' }, /--events-per-second takes a whole number/],
    [{ eventsPerSecond: '5', burst: '1e3' }, /--burst takes a whole number/],
  ])('refuses %o naming the flag', (flags, why) => {
    expect(() => limitsChange(flags)).toThrow(why);
  });
});
