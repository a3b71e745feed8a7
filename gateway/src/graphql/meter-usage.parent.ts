import type { QueryMeterRequest, QueryMeterResponse } from '@polaris/proto';

/**
 * What the `usage` field resolves to: the Usage service's answer and the request behind it, so
 * that `total` can ask again, without windows and groups, only when it is selected.
 */
export interface MeterUsageParent {
  request: QueryMeterRequest;
  response: QueryMeterResponse;
  /**
   * The whole period's answer (no windows, no groups) when `total` is selected beside windows or
   * groups: asked side by side with `response`, not after it.
   */
  whole?: Promise<QueryMeterResponse>;
}
