import { meters, withOrg, type Pool } from '@polaris/postgres';
import type { UnaryWrapper } from '@polaris/shared/grpc';
import type { BatchGetMetersRequest, BatchGetMetersResponse } from '@polaris/proto';
import { lookUpEach } from '../billing/batch-lookup';
import { meterToProto } from './meter-proto';

/**
 * Meters.BatchGetMeters: the meters a page of invoice lines or prices names (by slug), in one call
 * and one transaction of the organization (withOrg), instead of one GetMeter per row.
 */
export function batchGetMeters(pool: Pool, unary: UnaryWrapper) {
  return unary<BatchGetMetersRequest, BatchGetMetersResponse>('polaris.v1.Meters/BatchGetMeters', async (req) => {
    const found = await withOrg(pool, req.organizationId, (tx) =>
      lookUpEach(req.slugs, 'slugs', (slug) => meters.get(tx, { organizationId: req.organizationId, slug })),
    );
    return { meters: found.map(meterToProto) };
  });
}
