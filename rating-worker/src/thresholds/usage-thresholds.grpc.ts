import { thresholdFirings, usageThresholds, withOrg, type Pool } from '@polaris/postgres';
import { type GrpcServiceBinding, type MethodAccess, type UnaryWrapper } from '@polaris/shared/grpc';
import {
  UsageThresholdsService,
  type CreateUsageThresholdRequest,
  type ListUsageThresholdFiringsRequest,
  type ListUsageThresholdFiringsResponse,
  type ListUsageThresholdsRequest,
  type ListUsageThresholdsResponse,
  type UsageThreshold,
  type UsageThresholdRef,
} from '@polaris/proto';
import { firingToProto, thresholdToProto } from './threshold-proto';

/**
 * polaris.v1.UsageThresholds over PostgreSQL. Every call acts for the organization of the API key
 * the gateway validated, or for the one an operator names, inside withOrg (row-level security),
 * and the repositories filter every query by it too.
 */
export function usageThresholdsService(pool: Pool, unary: UnaryWrapper): GrpcServiceBinding {
  const method = (name: string) => `polaris.v1.UsageThresholds/${name}`;
  const tenant: MethodAccess = { callers: ['gateway', 'operator'], organization: 'request' };
  return {
    name: 'polaris.v1.UsageThresholds',
    definition: UsageThresholdsService,
    access: {
      createUsageThreshold: tenant,
      listUsageThresholds: tenant,
      archiveUsageThreshold: tenant,
      listUsageThresholdFirings: tenant,
    },
    implementation: {
      createUsageThreshold: unary<CreateUsageThresholdRequest, UsageThreshold>(method('CreateUsageThreshold'), async (req) =>
        thresholdToProto(
          await withOrg(pool, req.organizationId, (tx) =>
            usageThresholds.create(tx, {
              organizationId: req.organizationId,
              customerId: req.customerId,
              externalId: req.externalId,
              meter: req.meter,
              quantity: req.quantity,
              percent: req.percent,
            }),
          ),
        ),
      ),
      listUsageThresholds: unary<ListUsageThresholdsRequest, ListUsageThresholdsResponse>(method('ListUsageThresholds'), async (req) => {
        const found = await withOrg(pool, req.organizationId, (tx) =>
          usageThresholds.list(tx, { organizationId: req.organizationId, customerId: req.customerId, externalId: req.externalId, includeArchived: req.includeArchived }),
        );
        return { thresholds: found.map(thresholdToProto) };
      }),
      archiveUsageThreshold: unary<UsageThresholdRef, UsageThreshold>(method('ArchiveUsageThreshold'), async (req) =>
        thresholdToProto(await withOrg(pool, req.organizationId, (tx) => usageThresholds.archive(tx, { organizationId: req.organizationId, thresholdId: req.thresholdId }))),
      ),
      listUsageThresholdFirings: unary<ListUsageThresholdFiringsRequest, ListUsageThresholdFiringsResponse>(method('ListUsageThresholdFirings'), async (req) => {
        const hasCustomer = req.customerId !== '' || req.externalId !== '';
        const firings = await withOrg(pool, req.organizationId, (tx) =>
          thresholdFirings.list(tx, {
            organizationId: req.organizationId,
            ...(hasCustomer ? { customer: { organizationId: req.organizationId, customerId: req.customerId, externalId: req.externalId } } : {}),
            ...(req.thresholdId ? { thresholdId: req.thresholdId } : {}),
            ...(req.periodStart ? { periodStart: req.periodStart } : {}),
            ...(req.pageSize ? { limit: req.pageSize } : {}),
          }),
        );
        return { firings: firings.map(firingToProto) };
      }),
    },
  };
}
