import type { WebhookDelivery as DeliveryRecord, WebhookEndpoint as EndpointRecord } from '@polaris/postgres';
import type { WebhookDelivery, WebhookEndpoint } from '@polaris/proto';
import { webhookIdOf } from './webhook-signature';

// Repository records → polaris.v1 messages (the one translation on this side).

export function endpointToProto(e: EndpointRecord): WebhookEndpoint {
  return {
    id: e.id,
    organizationId: e.organizationId,
    url: e.url,
    description: e.description,
    eventTypes: e.eventTypes,
    enabled: e.enabled,
    disabledReason: e.disabledReason ?? '',
    disabledAt: e.disabledAt,
    alertEmail: e.alertEmail ?? '',
    failingSince: e.failingSince,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

export function deliveryToProto(d: DeliveryRecord): WebhookDelivery {
  return {
    id: d.id,
    organizationId: d.organizationId,
    endpointId: d.endpointId,
    eventId: d.eventId,
    eventType: d.eventType,
    webhookId: webhookIdOf(d.id),
    status: d.status,
    attemptCount: d.attemptCount,
    lastError: d.lastError ?? '',
    lastAttemptAt: d.lastAttemptAt,
    deliveredAt: d.deliveredAt,
    createdAt: d.createdAt,
    attempts: (d.attempts ?? []).map((a) => ({
      attemptNumber: a.attemptNumber,
      trigger: a.trigger,
      outcome: a.outcome,
      responseStatus: a.responseStatus ?? 0,
      durationMs: a.durationMs,
      responseExcerpt: a.responseExcerpt,
      error: a.error ?? '',
      startedAt: a.startedAt,
    })),
  };
}
