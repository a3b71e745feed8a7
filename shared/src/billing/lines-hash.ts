/**
 * `lines_hash` (docs/billing.md, "Why the result does not depend on when the job runs"): the
 * sha256 of the canonical JSON of an invoice's lines and totals. Recomputing a draft from the
 * same stored events must give the same hash, so the JSON may depend only on values: object keys
 * sorted at every depth, Dates as ISO strings, undefined fields dropped.
 */

import { createHash } from 'node:crypto';

export interface HashedInvoice {
  currency: string;
  subtotal: string;
  total: string;
  lines: unknown[];
}

function canonicalValue(value: unknown, path: string): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item, i) => (item === undefined ? null : canonicalValue(item, `${path}[${i}]`)));
  if (typeof value === 'object' && value !== null) {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[key];
      if (field !== undefined) sorted[key] = canonicalValue(field, `${path}.${key}`);
    }
    return sorted;
  }
  // Money is text: a JS number here would hash its float spelling, and bigint or NaN have no JSON.
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`billing: ${path} is the number ${value}: hash money as decimal text`);
  if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') throw new Error(`billing: ${path} has no JSON form`);
  return value;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalValue(value, '$'));
}

export function linesHash(invoice: HashedInvoice): string {
  const { currency, subtotal, total, lines } = invoice;
  return createHash('sha256').update(canonicalJson({ currency, subtotal, total, lines })).digest('hex');
}
