import type { QueryMeterRequest, QueryMeterResponse } from '@polaris/proto';

/**
 * What the `usage` field resolves to: the Usage service's answer and the request behind it, so
 * that `total` can ask again, without windows and groups, only when it is selected.
 */
export interface MeterUsageParent {
  request: QueryMeterRequest;
  response: QueryMeterResponse;
}
