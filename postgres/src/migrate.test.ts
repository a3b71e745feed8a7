import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POSTGRES_MIGRATIONS_DIR } from './migrate';

describe('POSTGRES_MIGRATIONS_DIR', () => {
  it('is the postgres/migrations folder, with the SQL files', () => {
    expect(POSTGRES_MIGRATIONS_DIR).toMatch(/[/\\]postgres[/\\]migrations$/);
    expect(readdirSync(POSTGRES_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length).toBeGreaterThan(0);
  });
});
