import type { EventsRawRow } from '@polaris/clickhouse';
import { extractMeter } from '@polaris/shared/meters';
import type { MeterCatalogSnapshot } from './catalog-snapshot';

const UNCOMPILABLE = { valid: false, value: '0', uniqueKey: '', dimensions: [] as string[] };

export interface StampTally {
  valid: number;
  invalid: number;
}

/**
 * Writes into an events_raw row the value of every live meter of its (org, type), and the
 * catalog revision they came from, so that the event and its meter values are one row of one
 * INSERT (docs/meters.md): a crash cannot store one without the other. The backfill counts
 * exactly the rows whose revision predates a version, so the revision is stamped on every row,
 * with or without meters.
 *
 * `data` gives the event's data as parsed exactly (the row holds it as text); asked once, and
 * only when a meter matches.
 */
export function stampMeterValues(row: EventsRawRow, data: () => unknown, snapshot: MeterCatalogSnapshot, tally: StampTally): EventsRawRow {
  const meters = snapshot.metersFor(row.namespace, row.type);
  const parsed = meters.length > 0 ? data() : undefined;
  const ids: string[] = [];
  const values: string[] = [];
  const uniqueKeys: string[] = [];
  const dimensions: string[][] = [];
  const valid: number[] = [];
  for (const { meterVersionId, meter } of meters) {
    const x = meter ? extractMeter(meter, parsed) : UNCOMPILABLE;
    ids.push(meterVersionId);
    values.push(x.value);
    uniqueKeys.push(x.uniqueKey);
    dimensions.push(x.dimensions);
    valid.push(x.valid ? 1 : 0);
    if (x.valid) tally.valid++;
    else tally.invalid++;
  }
  return {
    ...row,
    catalog_revision: snapshot.revision,
    meter_version_ids: ids,
    meter_values: values,
    meter_unique_keys: uniqueKeys,
    meter_dimensions: dimensions,
    meter_valid: valid,
  };
}
