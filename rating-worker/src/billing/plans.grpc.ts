import { plans, type Pool } from '@polaris/postgres';
import { type GrpcServiceBinding, type MethodAccess, type UnaryWrapper } from '@polaris/shared/grpc';
import {
  PlansService,
  type CreatePlanRequest,
  type CreatePlanVersionRequest,
  type GetPlanRequest,
  type ListPlansRequest,
  type ListPlansResponse,
  type Plan,
  type PlanVersion,
  type PlanVersionRef,
  type UpdatePlanVersionRequest,
} from '@polaris/proto';
import { planToProto, planVersionToProto, priceFromProto } from './billing-proto';

/**
 * polaris.v1.Plans over PostgreSQL. Prices are checked by the repository (checkPrices and the
 * org's meters), so a bad one is INVALID_ARGUMENT naming its path, e.g. `prices[1].tiers[2].from`.
 */
export function plansService(pool: Pool, unary: UnaryWrapper): GrpcServiceBinding {
  const method = (name: string) => `polaris.v1.Plans/${name}`;
  const tenant: MethodAccess = { callers: ['gateway', 'operator'], organization: 'request' };
  const versionRef = (ref: PlanVersionRef | undefined) => ({ organizationId: ref?.organizationId ?? '', planKey: ref?.planKey ?? '', version: ref?.version ?? 0 });
  return {
    name: 'polaris.v1.Plans',
    definition: PlansService,
    access: {
      createPlan: tenant,
      getPlan: tenant,
      listPlans: tenant,
      createPlanVersion: tenant,
      updatePlanVersion: tenant,
      publishPlanVersion: tenant,
      archivePlan: tenant,
    },
    implementation: {
      createPlan: unary<CreatePlanRequest, Plan>(method('CreatePlan'), async (req) =>
        planToProto(
          await plans.create(pool, {
            organizationId: req.organizationId,
            key: req.key,
            name: req.name,
            description: req.description,
            currency: req.currency,
            prices: req.prices.map(priceFromProto),
          }),
        ),
      ),
      getPlan: unary<GetPlanRequest, Plan>(method('GetPlan'), async (req) => planToProto(await plans.get(pool, { organizationId: req.organizationId, key: req.key }))),
      listPlans: unary<ListPlansRequest, ListPlansResponse>(method('ListPlans'), async (req) => {
        const page = await plans.list(pool, {
          organizationId: req.organizationId,
          includeArchived: req.includeArchived,
          pageSize: req.pageSize,
          pageToken: req.pageToken,
        });
        return { plans: page.plans.map(planToProto), nextPageToken: page.nextPageToken ?? '' };
      }),
      createPlanVersion: unary<CreatePlanVersionRequest, PlanVersion>(method('CreatePlanVersion'), async (req) =>
        planVersionToProto(
          await plans.createVersion(pool, {
            organizationId: req.organizationId,
            planKey: req.planKey,
            currency: req.currency,
            prices: req.prices.map(priceFromProto),
          }),
        ),
      ),
      updatePlanVersion: unary<UpdatePlanVersionRequest, PlanVersion>(method('UpdatePlanVersion'), async (req) =>
        planVersionToProto(
          await plans.updateVersion(pool, {
            ...versionRef(req.version),
            ...(req.currency !== undefined ? { currency: req.currency } : {}),
            // An empty list is a free plan, so whether prices are replaced is said apart.
            ...(req.replacePrices ? { prices: req.prices.map(priceFromProto) } : {}),
          }),
        ),
      ),
      publishPlanVersion: unary<PlanVersionRef, PlanVersion>(method('PublishPlanVersion'), async (req) =>
        planVersionToProto(await plans.publishVersion(pool, versionRef(req))),
      ),
      archivePlan: unary<GetPlanRequest, Plan>(method('ArchivePlan'), async (req) =>
        planToProto(await plans.archive(pool, { organizationId: req.organizationId, key: req.key })),
      ),
    },
  };
}
