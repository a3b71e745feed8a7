import type { WebhookDelivery, WebhookEndpoint } from '@polaris/proto';

// How `polaris webhook` prints endpoints and deliveries for people (--json prints the messages).

const when = (d: Date | undefined) => (d ? d.toISOString() : '-');

export function endpointText(e: WebhookEndpoint): string {
  return [
    `${e.id}  ${e.enabled ? 'enabled' : `disabled (${e.disabledReason})`}`,
    `  url:     ${e.url}`,
    `  events:  ${e.eventTypes.length > 0 ? e.eventTypes.join(', ') : 'every type'}`,
    ...(e.description ? [`  about:   ${e.description}`] : []),
    ...(e.alertEmail ? [`  alerts:  ${e.alertEmail}`] : []),
    ...(e.failingSince ? [`  failing since ${when(e.failingSince)}`] : []),
  ].join('\n');
}

export function deliveriesText(deliveries: readonly WebhookDelivery[]): string {
  if (deliveries.length === 0) return 'no deliveries';
  const rows = deliveries.map((d) => [d.id, d.eventType, d.status, String(d.attemptCount), when(d.createdAt), d.lastError]);
  const header = ['DELIVERY', 'EVENT', 'STATUS', 'ATTEMPTS', 'CREATED', 'LAST ERROR'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function deliveryText(d: WebhookDelivery): string {
  const attempts = d.attempts.map(
    (a) =>
      `  #${a.attemptNumber} ${a.trigger.padEnd(7)} ${when(a.startedAt)} ${a.outcome}${a.responseStatus ? ` ${a.responseStatus}` : ''} ${a.durationMs} ms` +
      `${a.error ? `  ${a.error}` : ''}${a.responseExcerpt ? `\n     ${JSON.stringify(a.responseExcerpt)}` : ''}`,
  );
  return [`${d.id}  ${d.eventType}  ${d.status}`, `  webhook-id: ${d.webhookId}`, `  endpoint:   ${d.endpointId}`, `  event:      ${d.eventId}`, 'attempts:', ...attempts].join('\n');
}
