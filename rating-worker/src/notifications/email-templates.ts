// The notification emails: subject, plain text and HTML for each. Pure functions of the event
// payload (catalogue: postgres/src/notifications/event-catalogue.ts), so tests and other senders
// (the thresholds notifier) render exactly what the SMTP server receives.

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const day = (iso: string): string => iso.slice(0, 10);

function render(subject: string, lines: Array<[label: string, value: string]>, intro: string): EmailMessage {
  const text = [intro, '', ...lines.map(([label, value]) => `${label}: ${value}`), '', '— Polaris'].join('\n');
  const rows = lines.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('');
  const html = `<p>${escapeHtml(intro)}</p><table>${rows}</table><p>— Polaris</p>`;
  return { subject, text, html };
}

export interface InvoiceEmailInput {
  number: string | null;
  customerExternalId: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  total: string | null;
}

/** To the customer (or the org's billing contact) when an invoice is finalized. */
export function invoiceFinalizedEmail(invoice: InvoiceEmailInput): EmailMessage {
  const number = invoice.number ?? '(unnumbered)';
  return render(
    `Invoice ${number} finalized: ${invoice.total ?? '0'} ${invoice.currency}`,
    [
      ['Invoice', number],
      ['Customer', invoice.customerExternalId],
      ['Period', `${day(invoice.periodStart)} to ${day(invoice.periodEnd)}`],
      ['Total', `${invoice.total ?? '0'} ${invoice.currency}`],
    ],
    `Invoice ${number} for the period ${day(invoice.periodStart)} to ${day(invoice.periodEnd)} is final.`,
  );
}

export interface ThresholdEmailInput {
  customerExternalId: string;
  meterSlug: string;
  kind: 'absolute' | 'percent';
  percent?: string;
  limitQuantity: string;
  observedQuantity: string;
  periodStart: string;
  periodEnd: string;
}

/** When a usage threshold is crossed (the `usage.threshold_crossed` payload). Exported for the thresholds notifier. */
export function thresholdCrossedEmail(crossing: ThresholdEmailInput): EmailMessage {
  const limit = crossing.kind === 'percent' && crossing.percent ? `${crossing.limitQuantity} (${crossing.percent} % of the plan's included quantity)` : crossing.limitQuantity;
  return render(
    `Usage threshold crossed: ${crossing.meterSlug} for ${crossing.customerExternalId}`,
    [
      ['Customer', crossing.customerExternalId],
      ['Meter', crossing.meterSlug],
      ['Threshold', limit],
      ['Usage so far', crossing.observedQuantity],
      ['Period', `${day(crossing.periodStart)} to ${day(crossing.periodEnd)}`],
    ],
    `${crossing.customerExternalId}'s usage of ${crossing.meterSlug} reached ${crossing.observedQuantity}, past its threshold of ${crossing.limitQuantity}.`,
  );
}

/** To the endpoint's alert address when it has failed for too long and was disabled. */
export function endpointDisabledEmail(endpoint: { id: string; url: string; disabledReason?: string }): EmailMessage {
  return render(
    `Webhook endpoint disabled: ${endpoint.url}`,
    [
      ['Endpoint', endpoint.id],
      ['URL', endpoint.url],
      ['Reason', endpoint.disabledReason ?? 'failing'],
      ['To resume', `polaris webhook enable ${endpoint.id} (or the updateWebhookEndpoint mutation), then replay what it missed`],
    ],
    'This webhook endpoint kept failing and no longer receives events.',
  );
}
