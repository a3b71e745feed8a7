import type { ClickHouseReader } from '../named-query';
import type { MeterUsageQuery } from './meter-usage.params';
import { queryMeterUsage } from './meter-usage.query';
import type { MeterUsageResult } from './meter-usage.rows';

/** All the Usage gRPC service's QueryMeter needs of ClickHouse: this one read (meterUsage.query). */
export interface MeterUsageReader {
  query(params: MeterUsageQuery): Promise<MeterUsageResult>;
}

export function meterUsageReader(client: ClickHouseReader): MeterUsageReader {
  return { query: (params) => queryMeterUsage(client, params) };
}
