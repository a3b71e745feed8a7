import { describe, expect, it } from 'vitest';
import { slugify, SLUG_PATTERN } from './organization-slug';

describe('slugify', () => {
  it('derives a slug that satisfies the database constraint', () => {
    for (const [name, slug] of [
      ['Acme Corp.', 'acme-corp'],
      ['  Ünïcödé  Café ', 'unicode-cafe'],
      ['--Already-Sluggy--', 'already-sluggy'],
    ] as const) {
      expect(slugify(name)).toBe(slug);
      expect(slug).toMatch(SLUG_PATTERN);
    }
  });

  it('caps the length at 63 without a trailing dash', () => {
    const slug = slugify(`${'a'.repeat(62)} b`);
    expect(slug).toBe('a'.repeat(62));
    expect(slugify('x'.repeat(100))).toHaveLength(63);
  });
});
