import { requireWebhookUrl, webhookDeliveries, webhookEndpoints, type Pool, type QueuedDelivery } from '@polaris/postgres';
import { type GrpcServiceBinding, type UnaryWrapper } from '@polaris/shared/grpc';
import { PolarisError } from '@polaris/shared/errors';
import {
  WebhooksService, type CreateWebhookEndpointRequest, type ListWebhookDeliveriesRequest, type ListWebhookDeliveriesResponse, type ListWebhookEndpointsRequest,
  type ListWebhookEndpointsResponse, type ReplayWebhookDeliveriesRequest, type ReplayWebhookDeliveriesResponse, type UpdateWebhookEndpointRequest,
  type WebhookDelivery, type WebhookDeliveryRef, type WebhookEndpoint, type WebhookEndpointRef, type WebhookEndpointWithSecret,
} from '@polaris/proto';
import { requirePublicTarget } from './target-guard';
import { deliveryToProto, endpointToProto } from './webhook-proto';

export interface WebhooksServiceDeps {
  pool: Pool;
  /** Queues replayed deliveries; undefined when this replica runs no notifier (replays are then refused). */
  enqueue?: (deliveries: readonly QueuedDelivery[]) => Promise<void>;
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS: false refuses URLs reaching private ranges at registration. */
  allowPrivateTargets: boolean;
}

/**
 * polaris.v1.Webhooks over PostgreSQL. Every call is bound to the request's organization_id (the
 * gateway's from a validated API key; the operator CLI's from its --org), and every repository
 * call runs under withOrg, so row-level security keeps it to that org.
 */
export function webhooksService(deps: WebhooksServiceDeps, unary: UnaryWrapper): GrpcServiceBinding {
  const { pool } = deps;
  const method = (name: string) => `polaris.v1.Webhooks/${name}`;
  const rule = { callers: ['gateway', 'operator'], organization: 'request' } as const;
  const checkTarget = async (raw: string) => {
    const url = requireWebhookUrl(raw);
    if (!deps.allowPrivateTargets) await requirePublicTarget(url);
  };
  const enqueue = async (deliveries: readonly QueuedDelivery[]) => {
    if (!deps.enqueue) throw new PolarisError('unavailable', 'notifications_disabled', 'this deployment runs no webhook notifier (NOTIFICATIONS_ENABLED=false)');
    await deps.enqueue(deliveries);
  };
  return {
    name: 'polaris.v1.Webhooks',
    definition: WebhooksService,
    access: {
      createEndpoint: rule,
      listEndpoints: rule,
      getEndpoint: rule,
      updateEndpoint: rule,
      deleteEndpoint: rule,
      rotateSecret: rule,
      listDeliveries: rule,
      getDelivery: rule,
      replayDelivery: rule,
      replayDeliveries: rule,
    },
    implementation: {
      createEndpoint: unary<CreateWebhookEndpointRequest, WebhookEndpointWithSecret>(method('CreateEndpoint'), async (req) => {
        await checkTarget(req.url);
        const created = await webhookEndpoints.create(pool, {
          organizationId: req.organizationId,
          url: req.url,
          description: req.description,
          eventTypes: req.eventTypes,
          alertEmail: req.alertEmail,
        });
        return { endpoint: endpointToProto(created.endpoint), secret: created.secret };
      }),
      listEndpoints: unary<ListWebhookEndpointsRequest, ListWebhookEndpointsResponse>(method('ListEndpoints'), async (req) => ({
        endpoints: (await webhookEndpoints.list(pool, { organizationId: req.organizationId })).map(endpointToProto),
      })),
      getEndpoint: unary<WebhookEndpointRef, WebhookEndpoint>(method('GetEndpoint'), async (req) =>
        endpointToProto(await webhookEndpoints.get(pool, { organizationId: req.organizationId, endpointId: req.endpointId })),
      ),
      updateEndpoint: unary<UpdateWebhookEndpointRequest, WebhookEndpoint>(method('UpdateEndpoint'), async (req) => {
        if (req.url !== undefined) await checkTarget(req.url);
        return endpointToProto(
          await webhookEndpoints.update(pool, {
            organizationId: req.organizationId,
            endpointId: req.endpointId,
            ...(req.url !== undefined ? { url: req.url } : {}),
            ...(req.description !== undefined ? { description: req.description } : {}),
            ...(req.eventTypes !== undefined ? { eventTypes: req.eventTypes.eventTypes } : {}),
            ...(req.alertEmail !== undefined ? { alertEmail: req.alertEmail } : {}),
            ...(req.enabled !== undefined ? { enabled: req.enabled } : {}),
          }),
        );
      }),
      deleteEndpoint: unary<WebhookEndpointRef, WebhookEndpoint>(method('DeleteEndpoint'), async (req) =>
        endpointToProto(await webhookEndpoints.delete(pool, { organizationId: req.organizationId, endpointId: req.endpointId })),
      ),
      rotateSecret: unary<WebhookEndpointRef, WebhookEndpointWithSecret>(method('RotateSecret'), async (req) => {
        const rotated = await webhookEndpoints.rotateSecret(pool, { organizationId: req.organizationId, endpointId: req.endpointId });
        return { endpoint: endpointToProto(rotated.endpoint), secret: rotated.secret };
      }),
      listDeliveries: unary<ListWebhookDeliveriesRequest, ListWebhookDeliveriesResponse>(method('ListDeliveries'), async (req) => {
        const page = await webhookDeliveries.list(pool, {
          organizationId: req.organizationId,
          endpointId: req.endpointId,
          status: req.status,
          eventType: req.eventType,
          ...(req.createdFrom ? { createdFrom: req.createdFrom } : {}),
          ...(req.createdTo ? { createdTo: req.createdTo } : {}),
          pageSize: req.pageSize,
          pageToken: req.pageToken,
        });
        return { deliveries: page.deliveries.map(deliveryToProto), nextPageToken: page.nextPageToken ?? '' };
      }),
      getDelivery: unary<WebhookDeliveryRef, WebhookDelivery>(method('GetDelivery'), async (req) =>
        deliveryToProto(await webhookDeliveries.get(pool, { organizationId: req.organizationId, deliveryId: req.deliveryId })),
      ),
      replayDelivery: unary<WebhookDeliveryRef, WebhookDelivery>(method('ReplayDelivery'), async (req) => {
        if (!deps.enqueue) await enqueue([]);
        const queued = await webhookDeliveries.replay(pool, { organizationId: req.organizationId, deliveryId: req.deliveryId });
        await enqueue([queued]);
        return deliveryToProto(await webhookDeliveries.get(pool, { organizationId: req.organizationId, deliveryId: req.deliveryId }));
      }),
      replayDeliveries: unary<ReplayWebhookDeliveriesRequest, ReplayWebhookDeliveriesResponse>(method('ReplayDeliveries'), async (req) => {
        if (!req.createdFrom) throw new PolarisError('invalid_argument', 'invalid_time_range', 'created_from is required', 'created_from');
        if (!req.createdTo) throw new PolarisError('invalid_argument', 'invalid_time_range', 'created_to is required', 'created_to');
        if (!deps.enqueue) await enqueue([]);
        const queued = await webhookDeliveries.replayRange(pool, {
          organizationId: req.organizationId,
          createdFrom: req.createdFrom,
          createdTo: req.createdTo,
          ...(req.endpointId ? { endpointId: req.endpointId } : {}),
          ...(req.status ? { status: req.status } : {}),
        });
        await enqueue(queued);
        return { replayed: queued.length };
      }),
    },
  };
}
