import type { Organization } from '@polaris/postgres';
import { formatTable } from '../format';
import { tierBreakdown } from './invoice-tiers';
import type { InvoiceView } from './invoice-view';

// What the `invoice` commands print for a person: an invoice as a table of its lines with the
// amounts (right-aligned, with the currency's digits as stored) and its totals; an estimate marked
// as one on its first line.

const period = (v: InvoiceView) => `${v.periodStart} .. ${v.periodEnd}`;

/** Columns: the first left-aligned, the others right-aligned (numbers). */
function numericTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function linesTable(v: InvoiceView): string[] {
  const lines = v.lines ?? [];
  if (lines.length === 0) return [v.total === null ? '  (not computed yet)' : '  (no lines)'];
  const rows = lines.map((l) => [l.description, l.quantity ?? '', l.billableQuantity ?? '', l.unitPrice ?? '', l.amount]);
  const totals = [
    ['', '', '', 'subtotal', v.subtotal ?? ''],
    ['', '', '', 'total', v.total ?? ''],
  ];
  const table = numericTable(['LINE', 'QUANTITY', 'BILLABLE', 'UNIT PRICE', `AMOUNT (${v.currency})`], [...rows, ...totals]);
  const rule = '-'.repeat(Math.max(...table.map((l) => l.length)));
  // The header, the lines, a rule, the totals.
  return [...table.slice(0, rows.length + 1), rule, ...table.slice(rows.length + 1)].map((l) => `  ${l}`);
}

export function invoiceText(organization: Pick<Organization, 'slug'>, v: InvoiceView): string {
  const head = v.estimate
    ? [
        `ESTIMATE — the current period so far, not an invoice (nothing is stored)`,
        `  customer:     ${v.customerExternalId} (${v.customerId}) of ${organization.slug}`,
        `  period:       ${period(v)}`,
        `  usage up to:  ${v.usageAsOf ?? '-'}`,
      ]
    : [
        `invoice ${v.number ?? v.id} (${v.status}) of ${organization.slug}`,
        ...(v.number ? [`  id:           ${v.id}`] : []),
        `  customer:     ${v.customerExternalId} (${v.customerId})`,
        `  period:       ${period(v)}`,
        `  usage as of:  ${v.usageAsOf ?? '-'}`,
        ...(v.status === 'draft' ? [`  finalized after ${v.finalizeAfter ?? '-'}`] : []),
        ...(v.finalizedAt ? [`  finalized:    ${v.finalizedAt}`] : []),
        ...(v.paidAt ? [`  paid:         ${v.paidAt}`] : []),
        ...(v.voidedAt ? [`  voided:       ${v.voidedAt}`] : []),
        ...(v.ratingError ? [`  rating error: ${v.ratingError}`] : []),
      ];
  const history = (v.history ?? []).map((e) => `    ${e.at ?? ''}  ${e.action.padEnd(12)} ${e.fromStatus ? `${e.fromStatus} → ` : ''}${e.toStatus}  by ${e.actor}`);
  const tiers = tierBreakdown(v);
  return [...head, '', ...linesTable(v), ...(tiers.length > 0 ? ['', '  tiers (exact pieces; each line is rounded once, half-even):', ...tiers.map((t) => `  ${t}`)] : []), ...(history.length > 0 ? ['', '  history:', ...history] : [])].join('\n');
}

export function invoicesText(organization: Pick<Organization, 'id' | 'slug'>, all: readonly InvoiceView[]): string {
  if (all.length === 0) return `no invoices for ${organization.slug} (${organization.id})`;
  const rows = all.map((v) => [v.id ?? '', v.number ?? '-', v.status, v.customerExternalId, period(v), v.total === null ? '-' : `${v.total} ${v.currency}`]);
  return formatTable(['ID', 'NUMBER', 'STATUS', 'CUSTOMER', 'PERIOD', 'TOTAL'], rows);
}
