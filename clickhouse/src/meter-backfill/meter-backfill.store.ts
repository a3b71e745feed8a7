import type { ClickHouseReader, ClickHouseWriter } from '../named-query';
import { countBackfillEvents, insertBackfillValues, readBackfillEvents } from './meter-backfill.queries';
import type { BackfillScope, MeterValuesBackfillRow, ReadEventsParams, StoredEvent } from './meter-backfill.schema';

/**
 * All a backfill run needs of ClickHouse (the sink-worker's `backfill` capability): count and
 * page through the stored events it must count, and store what it computed. Each contract is on
 * its function in meter-backfill.queries.ts.
 */
export interface MeterBackfillStore {
  countEvents(scope: BackfillScope): Promise<number>;
  readEvents(params: ReadEventsParams): Promise<StoredEvent[]>;
  insertValues(rows: readonly MeterValuesBackfillRow[]): Promise<void>;
}

export function meterBackfillStore(client: ClickHouseReader & ClickHouseWriter): MeterBackfillStore {
  return {
    countEvents: (scope) => countBackfillEvents(client, scope),
    readEvents: (params) => readBackfillEvents(client, params),
    insertValues: (rows) => insertBackfillValues(client, rows),
  };
}
