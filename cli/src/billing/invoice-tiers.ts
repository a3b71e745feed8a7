import type { InvoiceView } from './invoice-view';

// How each tiered line (GRADUATED, VOLUME) of an invoice was made up, tier by tier, with the exact
// pieces before the line's rounding: printed by `polaris invoice get` under the lines, and by the demo.

/** "(0, 10000]", "(40000, ∞)" */
const range = (from: string, upTo: string | null): string => `(${from}, ${upTo === null ? '∞)' : `${upTo}]`}`;

/**
 *   tokens: 48000 of tokens → 20.60 USD
 *     tier 1  (0, 10000]      10000  × 0           = 0
 *     tier 2  (10000, 40000]  30000  × 0.0005      = 15
 *     tier 3  (40000, ∞)       8000  × 0.0002 + 2  = 3.6
 */
export function tierBreakdown(invoice: Pick<InvoiceView, 'lines' | 'currency'>): string[] {
  const tiered = (invoice.lines ?? []).filter((line) => line.tiers.length > 0);
  return tiered.flatMap((line) => {
    const rows = line.tiers.map((t) => [
      `tier ${t.tier}`,
      range(t.from, t.upTo),
      t.quantity,
      `× ${t.unitPrice}${t.flatFee === '0' ? '' : ` + ${t.flatFee}`}`,
      `= ${t.amount}`,
    ]);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
    const text = rows.map((r) => `    ${r.map((cell, i) => (i === 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd());
    return [`  ${line.priceKey}: ${line.billableQuantity ?? '0'} of ${line.meterSlug ?? '?'} → ${line.amount} ${invoice.currency}`, ...text];
  });
}
