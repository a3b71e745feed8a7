import { describe, expect, it } from 'vitest';
import type { EventsRawRow } from '@polaris/clickhouse';
import { MeterCatalogSnapshot, type CatalogVersion } from './catalog-snapshot';
import { stampMeterValues } from './meter-stamp';

const row = (namespace: string, type: string): EventsRawRow => ({
  namespace,
  id: 'e1',
  source: 'svc',
  type,
  subject: 'cust-1',
  time: '2026-01-02 03:04:05',
  time_ms: 1_767_323_045_000,
  data: '{}',
  ingested_at: '2026-01-02 03:04:05',
  ingest_seq: '1',
});

const version = (id: string, organizationId: string, definition: CatalogVersion['definition']): CatalogVersion => ({
  organizationId,
  meterSlug: `m${id}`,
  meterVersionId: id,
  catalogRevision: '1',
  definition,
});

const snapshot = new MeterCatalogSnapshot('9', [
  version('1', 'org-a', { eventType: 'llm', aggregation: 'SUM', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] }),
  version('2', 'org-a', { eventType: 'llm', aggregation: 'COUNT', dimensions: [] }),
  version('3', 'org-a', { eventType: 'llm', aggregation: 'UNIQUE_COUNT', uniquePath: '$.user', dimensions: [] }),
  version('4', 'org-b', { eventType: 'llm', aggregation: 'SUM', valuePath: '$.tokens', dimensions: [] }),
  // Stored before a rule tightened: it no longer compiles, and must not stop the others.
  version('5', 'org-a', { eventType: 'llm', aggregation: 'SUM', valuePath: 'tokens', dimensions: [] }),
]);

describe('stampMeterValues', () => {
  it("writes the values of the org's live meters for the event's type, in parallel arrays, with the revision", () => {
    const tally = { valid: 0, invalid: 0 };
    const data = { meta: { tokens: 1000 }, tokens: 5, model: 'gpt', user: 'u-1' };
    const stamped = stampMeterValues(row('org-a', 'llm'), () => data, snapshot, tally);
    expect(stamped).toMatchObject({
      catalog_revision: '9',
      meter_version_ids: ['1', '2', '3', '5'],
      meter_values: ['5', '0', '0', '0'],
      meter_unique_keys: ['', '', 's:u-1', ''],
      meter_dimensions: [['gpt'], [], [], []],
      meter_valid: [1, 1, 1, 0],
    });
    expect(tally).toEqual({ valid: 3, invalid: 1 });
  });

  it("never stamps another org's meters, and stamps the revision on rows that no meter counts", () => {
    const stamped = stampMeterValues(row('org-c', 'llm'), () => ({ tokens: 5 }), snapshot, { valid: 0, invalid: 0 });
    expect(stamped).toMatchObject({ catalog_revision: '9', meter_version_ids: [], meter_values: [] });
    const other = stampMeterValues(row('org-b', 'llm'), () => ({ tokens: 7 }), snapshot, { valid: 0, invalid: 0 });
    expect(other.meter_version_ids).toEqual(['4']);
  });

  it('parses the data only when a meter matches the row, once however many match', () => {
    let parses = 0;
    const data = () => (parses++, { tokens: 5, model: 'gpt', user: 'u-1' });
    stampMeterValues(row('org-c', 'llm'), data, snapshot, { valid: 0, invalid: 0 });
    expect(parses).toBe(0);
    stampMeterValues(row('org-a', 'llm'), data, snapshot, { valid: 0, invalid: 0 });
    expect(parses).toBe(1);
  });

  it('counts a value that is not a number as invalid, never as 0', () => {
    const tally = { valid: 0, invalid: 0 };
    const stamped = stampMeterValues(row('org-b', 'llm'), () => ({ tokens: 'many' }), snapshot, tally);
    expect(stamped.meter_valid).toEqual([0]);
    expect(tally).toEqual({ valid: 0, invalid: 1 });
  });
});
