import type { WebhookDelivery as ProtoDelivery, WebhookEndpoint as ProtoEndpoint } from '@polaris/proto';
import { argumentsNamed, billingReader, billingWriter, callBilling } from './billing-access';
import { guarded } from './errors';
import type { Resolvers, WebhookDeliveryStatus } from './generated/resolvers-types';

// Webhooks (README "Webhooks"), through the rating-worker's Webhooks service: endpoints (the
// secret only in the answers of create and rotate), the delivery log, and replays. The delivery
// status crosses between proto text and the GraphQL enum here and nowhere else.

const STATUS: Record<string, WebhookDeliveryStatus> = { pending: 'PENDING', delivered: 'DELIVERED', failed: 'FAILED' };
const toProtoStatus = (status: WebhookDeliveryStatus | null | undefined): string => (status ? status.toLowerCase() : '');

// The service's field names → the caller's arguments.
const inputArgument = argumentsNamed({ endpoint_id: 'id' }, 'input.');
const byId = argumentsNamed({ endpoint_id: 'id', delivery_id: 'id' });
const listArgument = argumentsNamed({ page_size: 'first', page_token: 'after' });

export const webhooksResolvers = {
  Query: {
    webhookEndpoints: guarded(async (_parent, _args, ctx) => {
      const organizationId = await billingReader(ctx);
      const { webhooks } = ctx.backends;
      return (await callBilling(ctx, webhooks.listEndpoints.bind(webhooks), { organizationId }, organizationId)).endpoints;
    }),
    webhookDeliveries: guarded(async (_parent, args, ctx) => {
      const organizationId = await billingReader(ctx);
      const { webhooks } = ctx.backends;
      const page = await callBilling(
        ctx,
        webhooks.listDeliveries.bind(webhooks),
        {
          organizationId,
          endpointId: args.endpointId ?? '',
          status: toProtoStatus(args.status),
          eventType: args.eventType ?? '',
          ...(args.createdFrom ? { createdFrom: args.createdFrom as Date } : {}),
          ...(args.createdTo ? { createdTo: args.createdTo as Date } : {}),
          pageSize: args.first ?? 50,
          pageToken: args.after ?? '',
        },
        organizationId,
        listArgument,
      );
      return { deliveries: page.deliveries, nextCursor: page.nextPageToken || null };
    }),
    webhookDelivery: guarded(async (_parent, args, ctx) => {
      const organizationId = await billingReader(ctx);
      const { webhooks } = ctx.backends;
      return callBilling(ctx, webhooks.getDelivery.bind(webhooks), { organizationId, deliveryId: args.id }, organizationId, byId);
    }),
  },
  Mutation: {
    createWebhookEndpoint: guarded(async (_parent, { input }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { webhooks } = ctx.backends;
      const created = await callBilling(
        ctx,
        webhooks.createEndpoint.bind(webhooks),
        { organizationId, url: input.url, eventTypes: input.eventTypes ?? [], description: input.description ?? '', alertEmail: input.alertEmail ?? '' },
        organizationId,
        inputArgument,
      );
      return { endpoint: created.endpoint as ProtoEndpoint, secret: created.secret };
    }),
    updateWebhookEndpoint: guarded(async (_parent, { id, input }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { webhooks } = ctx.backends;
      return callBilling(
        ctx,
        webhooks.updateEndpoint.bind(webhooks),
        {
          organizationId,
          endpointId: id,
          ...(input.url != null ? { url: input.url } : {}),
          ...(input.eventTypes != null ? { eventTypes: { eventTypes: input.eventTypes } } : {}),
          ...(input.description != null ? { description: input.description } : {}),
          ...(input.alertEmail != null ? { alertEmail: input.alertEmail } : {}),
          ...(input.enabled != null ? { enabled: input.enabled } : {}),
        },
        organizationId,
        inputArgument,
      );
    }),
    deleteWebhookEndpoint: guarded(async (_parent, { id }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { webhooks } = ctx.backends;
      return callBilling(ctx, webhooks.deleteEndpoint.bind(webhooks), { organizationId, endpointId: id }, organizationId, byId);
    }),
    rotateWebhookSecret: guarded(async (_parent, { id }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { webhooks } = ctx.backends;
      const rotated = await callBilling(ctx, webhooks.rotateSecret.bind(webhooks), { organizationId, endpointId: id }, organizationId, byId);
      return { endpoint: rotated.endpoint as ProtoEndpoint, secret: rotated.secret };
    }),
    replayWebhookDelivery: guarded(async (_parent, { id }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { webhooks } = ctx.backends;
      return callBilling(ctx, webhooks.replayDelivery.bind(webhooks), { organizationId, deliveryId: id }, organizationId, byId);
    }),
    replayWebhookDeliveries: guarded(async (_parent, args, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { webhooks } = ctx.backends;
      const res = await callBilling(
        ctx,
        webhooks.replayDeliveries.bind(webhooks),
        { organizationId, createdFrom: args.createdFrom as Date, createdTo: args.createdTo as Date, endpointId: args.endpointId ?? '', status: toProtoStatus(args.status) },
        organizationId,
      );
      return res.replayed;
    }),
  },
  WebhookEndpoint: {
    disabledReason: (e: ProtoEndpoint) => e.disabledReason || null,
    disabledAt: (e: ProtoEndpoint) => e.disabledAt ?? null,
    alertEmail: (e: ProtoEndpoint) => e.alertEmail || null,
    failingSince: (e: ProtoEndpoint) => e.failingSince ?? null,
    createdAt: (e: ProtoEndpoint) => e.createdAt as Date,
    updatedAt: (e: ProtoEndpoint) => e.updatedAt as Date,
  },
  WebhookDelivery: {
    status: (d: ProtoDelivery) => STATUS[d.status] ?? 'PENDING',
    lastError: (d: ProtoDelivery) => d.lastError || null,
    lastAttemptAt: (d: ProtoDelivery) => d.lastAttemptAt ?? null,
    deliveredAt: (d: ProtoDelivery) => d.deliveredAt ?? null,
    createdAt: (d: ProtoDelivery) => d.createdAt as Date,
  },
  WebhookAttempt: {
    responseStatus: (a: ProtoDelivery['attempts'][number]) => a.responseStatus || null,
    error: (a: ProtoDelivery['attempts'][number]) => a.error || null,
    startedAt: (a: ProtoDelivery['attempts'][number]) => a.startedAt as Date,
  },
} satisfies Resolvers;
