import type { ClickHouseReader } from '../named-query';
import { queryUsage, type UsageQuery, type UsageResult } from './usage.query';

/** All the Usage gRPC service needs of ClickHouse: reads, and only this one. */
export interface UsageReader {
  query(params: UsageQuery): Promise<UsageResult>;
}

export function usageReader(client: ClickHouseReader): UsageReader {
  return { query: (params) => queryUsage(client, params) };
}
