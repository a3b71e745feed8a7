import { subscriptions, type Pool } from '@polaris/postgres';
import { type GrpcServiceBinding, type MethodAccess, type UnaryWrapper } from '@polaris/shared/grpc';
import {
  SubscriptionsService,
  type ChangeSubscriptionPlanRequest,
  type CreateSubscriptionRequest,
  type ListSubscriptionsRequest,
  type ListSubscriptionsResponse,
  type Subscription,
  type SubscriptionRef,
} from '@polaris/proto';
import { anchorFromProto, subscriptionToProto } from './billing-proto';

/**
 * polaris.v1.Subscriptions over PostgreSQL. A plan change takes effect at the next period
 * boundary and a cancellation at the end of the current period; both are computed from now.
 */
export function subscriptionsService(pool: Pool, unary: UnaryWrapper): GrpcServiceBinding {
  const method = (name: string) => `polaris.v1.Subscriptions/${name}`;
  const tenant: MethodAccess = { callers: ['gateway', 'operator'], organization: 'request' };
  const ref = (r: SubscriptionRef | undefined) => ({ organizationId: r?.organizationId ?? '', subscriptionId: r?.subscriptionId ?? '' });
  return {
    name: 'polaris.v1.Subscriptions',
    definition: SubscriptionsService,
    access: {
      createSubscription: tenant,
      getSubscription: tenant,
      listSubscriptions: tenant,
      changeSubscriptionPlan: tenant,
      cancelSubscription: tenant,
    },
    implementation: {
      createSubscription: unary<CreateSubscriptionRequest, Subscription>(method('CreateSubscription'), async (req) =>
        subscriptionToProto(
          await subscriptions.create(pool, {
            organizationId: req.customer?.organizationId ?? '',
            customer: { customerId: req.customer?.customerId ?? '', externalId: req.customer?.externalId ?? '' },
            planKey: req.planKey,
            planVersion: req.planVersion,
            billingAnchor: anchorFromProto(req.billingAnchor),
            ...(req.startAt ? { startAt: req.startAt } : {}),
          }),
        ),
      ),
      getSubscription: unary<SubscriptionRef, Subscription>(method('GetSubscription'), async (req) => subscriptionToProto(await subscriptions.get(pool, ref(req)))),
      listSubscriptions: unary<ListSubscriptionsRequest, ListSubscriptionsResponse>(method('ListSubscriptions'), async (req) => {
        const page = await subscriptions.list(pool, {
          organizationId: req.organizationId,
          ...(req.customerId ? { customerId: req.customerId } : {}),
          pageSize: req.pageSize,
          pageToken: req.pageToken,
        });
        const now = new Date();
        return { subscriptions: page.subscriptions.map((s) => subscriptionToProto(s, now)), nextPageToken: page.nextPageToken ?? '' };
      }),
      changeSubscriptionPlan: unary<ChangeSubscriptionPlanRequest, Subscription>(method('ChangeSubscriptionPlan'), async (req) =>
        subscriptionToProto(
          await subscriptions.changePlan(pool, {
            ...ref(req.subscription),
            planKey: req.planKey,
            planVersion: req.planVersion,
            ...(req.effectiveAt ? { effectiveAt: req.effectiveAt } : {}),
          }),
        ),
      ),
      cancelSubscription: unary<SubscriptionRef, Subscription>(method('CancelSubscription'), async (req) =>
        subscriptionToProto(await subscriptions.cancel(pool, ref(req))),
      ),
    },
  };
}
