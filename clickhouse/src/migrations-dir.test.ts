import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLICKHOUSE_MIGRATIONS_DIR } from './migrations-dir';
import { parseMigrationFileName } from './migrate/sql-statements';

const files = readdirSync(CLICKHOUSE_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
/** Written before the naming scheme; applied migrations are never renamed (their checksums are recorded). */
const BEFORE_THE_SCHEME = new Set(['0001_events_raw.sql']);

describe('CLICKHOUSE_MIGRATIONS_DIR', () => {
  it('is clickhouse/migrations, with the migrations in it', () => {
    expect(CLICKHOUSE_MIGRATIONS_DIR).toMatch(/[/\\]clickhouse[/\\]migrations$/);
    expect(files.length).toBeGreaterThan(0);
  });

  it('names every migration NNNN_<name>_vN.sql, and every materialized view beside the table it feeds', () => {
    for (const file of files.filter((f) => !BEFORE_THE_SCHEME.has(f))) {
      expect(parseMigrationFileName(file), file).toBeDefined();
      expect(file, 'docs/ARCHITECTURE.md, "ClickHouse home"').toMatch(/^\d{4}_[a-z0-9_]+_v\d+\.sql$/);
      const view = /^\d{4}_([a-z0-9_]+)_mv_(v\d+)\.sql$/.exec(file);
      if (view) expect(files.some((f) => f.endsWith(`_${view[1]}_${view[2]}.sql`)), `${file} feeds ${view[1]}_${view[2]}`).toBe(true);
    }
  });
});
