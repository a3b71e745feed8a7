import { meterUsage, type ClickHouseReader } from '@polaris/clickhouse';
import type { Pool } from '@polaris/postgres';
import { centsText, RATING_METERS, RATING_PRICES, scaled, type ExpectedInvoice } from './rating-dataset';

/**
 * bench:rating's baseline, in the same run: the least any rating of this period must do, done in
 * bulk by one client. Reads: one grouped query per meter straight from ClickHouse (the same
 * rollup query the Usage API runs, every subject at once). Writes: the same invoices, lines and
 * history rows with plain multi-row INSERTs, a transaction per 1,000 invoices. The ratio the
 * bench prints (rating time ÷ this) is what the per-invoice jobs, the claims, the gRPC hops and
 * the queue cost on top of moving the data.
 */

const WRITE_BATCH = 1_000;

/** One grouped query per meter over the period; each subject's value checked against `expected` (milli-units). */
export async function baselineReads(
  client: ClickHouseReader,
  input: { organizationId: string; meterVersionIds: readonly string[]; period: { startMs: number; endMs: number }; expected: ReadonlyMap<string, ExpectedInvoice> },
): Promise<{ ms: number; rows: number; mismatches: string[] }> {
  const priceOfMeter = new Map(RATING_PRICES.filter((p) => p.meterSlug).map((p) => [p.meterSlug, p.key]));
  const mismatches: string[] = [];
  let rows = 0;
  let ms = 0;
  for (const [i, meter] of RATING_METERS.entries()) {
    const started = performance.now();
    const result = await meterUsage.query(client, {
      namespace: input.organizationId,
      meterVersionId: input.meterVersionIds[i] ?? '',
      aggregation: meter.definition.aggregation,
      fromMs: input.period.startMs,
      toMs: input.period.endMs,
      windowSize: 'none',
      groupBySubject: true,
    });
    ms += performance.now() - started;
    rows += result.rows.length;
    const key = priceOfMeter.get(meter.slug) ?? '';
    const seen = new Map(result.rows.map((r) => [r.subject, r.value ?? '0']));
    for (const [subject, invoice] of input.expected) {
      const want = invoice.lines.get(key)?.quantityMilli ?? 0n;
      const got = scaled(seen.get(subject) ?? '0', 3);
      if (got !== want && mismatches.length < 5) mismatches.push(`${meter.slug} of ${subject}: ClickHouse ${got} milli, generated ${want}`);
    }
  }
  return { ms, rows, mismatches };
}

/** The subscriptions to write invoices for, with the expectation of their customer's subject. */
export interface BaselineInvoice {
  customerId: string;
  subscriptionId: string;
  expected: ExpectedInvoice;
}

const milliText = (milli: bigint) => `${milli / 1000n}.${String(milli % 1000n).padStart(3, '0')}`;

/**
 * Inserts one computed invoice per subscription (4 lines, 2 history rows) in batches, timed, then
 * deletes them again (untimed): the rating runs start from no invoices.
 */
export async function baselineWrites(
  pool: Pool,
  input: { organizationId: string; planVersionId: string; period: { startMs: number; endMs: number }; invoices: readonly BaselineInvoice[] },
): Promise<{ ms: number; invoices: number; lines: number }> {
  const { organizationId, planVersionId } = input;
  const client = await pool.connect();
  let lines = 0;
  const started = performance.now();
  try {
    for (let offset = 0; offset < input.invoices.length; offset += WRITE_BATCH) {
      const batch = input.invoices.slice(offset, offset + WRITE_BATCH);
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string; subscription_id: string }>(
        `INSERT INTO invoices (organization_id, customer_id, subscription_id, plan_version_id, period_start, period_end, currency, finalize_after,
                               subtotal, total, lines_hash, usage_as_of, computed_at)
         SELECT $1, x.customer_id, x.subscription_id, $2, $3, $4, 'USD', $4::timestamptz + interval '1 hour', x.total, x.total, repeat('0', 64), now(), now()
           FROM unnest($5::uuid[], $6::uuid[], $7::numeric[]) AS x(customer_id, subscription_id, total)
         RETURNING id, subscription_id`,
        [
          organizationId,
          planVersionId,
          new Date(input.period.startMs),
          new Date(input.period.endMs),
          batch.map((b) => b.customerId),
          batch.map((b) => b.subscriptionId),
          batch.map((b) => centsText(b.expected.totalCents)),
        ],
      );
      const idOf = new Map(rows.map((r) => [r.subscription_id, r.id]));
      const line = { invoice: [] as string[], key: [] as string[], position: [] as number[], kind: [] as string[], slug: [] as Array<string | null>, quantity: [] as string[], amount: [] as string[] };
      for (const b of batch) {
        RATING_PRICES.forEach((price, position) => {
          const expected = b.expected.lines.get(price.key);
          line.invoice.push(idOf.get(b.subscriptionId) ?? '');
          line.key.push(price.key);
          line.position.push(position);
          line.kind.push(price.meterSlug ? 'usage' : 'flat');
          line.slug.push(price.meterSlug ?? null);
          line.quantity.push(milliText(expected?.quantityMilli ?? 0n));
          line.amount.push(centsText(expected?.cents ?? 0n));
        });
      }
      await client.query(
        `INSERT INTO invoice_lines (invoice_id, organization_id, line_key, position, kind, description, price_key, meter_slug,
                                   usage_period_start, usage_period_end, quantity, billable_quantity, amount, period_quantity)
         SELECT x.invoice_id, $1, x.line_key, x.position, x.kind, x.line_key, x.line_key, x.meter_slug, $2, $3, x.quantity, x.quantity, x.amount, x.quantity
           FROM unnest($4::uuid[], $5::text[], $6::int[], $7::text[], $8::text[], $9::numeric[], $10::numeric[])
                AS x(invoice_id, line_key, position, kind, meter_slug, quantity, amount)`,
        [organizationId, new Date(input.period.startMs), new Date(input.period.endMs), line.invoice, line.key, line.position, line.kind, line.slug, line.quantity, line.amount],
      );
      lines += line.invoice.length;
      // The two history rows a rated draft has: created, computed.
      await client.query(
        `INSERT INTO invoice_events (invoice_id, organization_id, action, from_status, to_status, actor, detail)
         SELECT x.id, $1, a.action, a.from_status, 'draft', a.actor, '{}'::jsonb
           FROM unnest($2::uuid[]) AS x(id)
          CROSS JOIN (VALUES ('created', NULL, 'scheduler'), ('computed', 'draft', 'rating-worker')) AS a(action, from_status, actor)`,
        [organizationId, rows.map((r) => r.id)],
      );
      await client.query('COMMIT');
    }
    const ms = performance.now() - started;
    await client.query('DELETE FROM invoices WHERE organization_id = $1', [organizationId]);
    return { ms, invoices: input.invoices.length, lines };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
