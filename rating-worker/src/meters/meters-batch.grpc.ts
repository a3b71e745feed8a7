import { meters, type Pool } from '@polaris/postgres';
import type { UnaryWrapper } from '@polaris/shared/grpc';
import type { BatchGetMetersRequest, BatchGetMetersResponse } from '@polaris/proto';
import { batchIds } from '../billing/batch-lookup';
import { meterToProto } from './meter-proto';

/**
 * Meters.BatchGetMeters: the meters a page of invoice lines or prices names (by slug), in one call
 * and set-based reads (meters.getMany, inside withOrg), instead of one GetMeter per row.
 */
export function batchGetMeters(pool: Pool, unary: UnaryWrapper) {
  return unary<BatchGetMetersRequest, BatchGetMetersResponse>('polaris.v1.Meters/BatchGetMeters', async (req) => {
    const found = await meters.getMany(pool, { organizationId: req.organizationId, slugs: batchIds(req.slugs, 'slugs') });
    return { meters: found.map(meterToProto) };
  });
}
