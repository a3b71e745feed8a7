import { describe, expect, it } from 'vitest';
import { replaceSegments, type BackfillSegment } from './backfill-segments';

const DAY = 86_400_000;
const seg = (run: string, fromDay: number, toDay: number | null): BackfillSegment => ({ run, fromMs: fromDay * DAY, toMs: toDay === null ? null : toDay * DAY });

describe('replaceSegments', () => {
  it('makes a whole-history run the only segment', () => {
    expect(replaceSegments([], seg('1', 0, null))).toEqual([seg('1', 0, null)]);
    expect(replaceSegments([seg('1', 0, 10), seg('2', 10, null)], seg('3', 0, null))).toEqual([seg('3', 0, null)]);
  });

  it('cuts an older segment around a range rebuilt inside it, leaving no gap', () => {
    expect(replaceSegments([seg('1', 0, null)], seg('2', 5, 7))).toEqual([seg('1', 0, 5), seg('2', 5, 7), seg('1', 7, null)]);
  });

  it('trims segments that overlap either end, and drops those covered whole', () => {
    const before = [seg('1', 0, 4), seg('2', 4, 6), seg('3', 6, 9), seg('4', 9, null)];
    expect(replaceSegments(before, seg('5', 5, 7))).toEqual([seg('1', 0, 4), seg('2', 4, 5), seg('5', 5, 7), seg('3', 7, 9), seg('4', 9, null)]);
    expect(replaceSegments(before, seg('6', 4, 9))).toEqual([seg('1', 0, 4), seg('6', 4, 9), seg('4', 9, null)]);
  });

  it('keeps segments that do not touch the new range as they are', () => {
    expect(replaceSegments([seg('1', 3, 5)], seg('2', 5, null))).toEqual([seg('1', 3, 5), seg('2', 5, null)]);
    expect(replaceSegments([seg('1', 6, 8)], seg('2', 1, 2))).toEqual([seg('2', 1, 2), seg('1', 6, 8)]);
  });

  it('running the same range twice leaves one segment for it, the newer run', () => {
    const once = replaceSegments([seg('1', 0, null)], seg('2', 5, 7));
    expect(replaceSegments(once, seg('3', 5, 7))).toEqual([seg('1', 0, 5), seg('3', 5, 7), seg('1', 7, null)]);
  });
});
