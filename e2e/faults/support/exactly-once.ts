import { expect } from 'vitest';
import { sqlString } from '@polaris/clickhouse';
import { eventually } from '../../support/http';
import { createLiveMeters, usageOf, wholeMinutesAround } from '../../support/meters';
import type { Tenant } from '../../support/tenants';
import type { FaultSystem } from './fault-system';
import { EVENT_TYPE, type SentEvent } from './steady-load';

export const METER_SLUG = 'fault_tokens';

/** A SUM meter of the tokens, live before any event (so every event counts in the rollups). */
export async function createTokensMeter(sys: FaultSystem, tenant: Tenant): Promise<void> {
  await createLiveMeters(tenant, [{ slug: METER_SLUG, name: 'Tokens', eventType: EVENT_TYPE, aggregation: 'SUM', valuePath: '$.tokens' }], {
    gatewayUrl: sys.gatewayUrl,
    databaseUrl: sys.databaseUrl,
    sinkOpsPort: sys.sinkOpsPort(),
  });
}

/** A decimal text (`12.25`, `7`, `3.500000000`) in hundredths; throws on finer digits. */
export function hundredths(text: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  const fraction = (m[3] ?? '').padEnd(2, '0');
  if (/[1-9]/.test(fraction.slice(2))) throw new Error(`${text} has digits below hundredths`);
  const value = BigInt(m[2] as string) * 100n + BigInt(fraction.slice(0, 2));
  return m[1] ? -value : value;
}

const sum = (values: Iterable<bigint>): bigint => [...values].reduce((a, b) => a + b, 0n);

/** How long the sink may take to commit the rest once the fault is over. */
const CATCH_UP_DEADLINE_MS = 120_000;

/**
 * The end of every scenario: nothing lost, nothing doubled. Once the sink's group has committed
 * everything on the topic, the physical rows of the organization (no FINAL: a duplicate would
 * show) are exactly one per accepted event, with the ids sent; their tokens add up to what was
 * sent; and the SUM meter's usage, read through the API from the rollups, equals that raw total,
 * with one event counted per event.
 */
export async function expectExactlyOnce(sys: FaultSystem, tenant: Tenant, sent: readonly SentEvent[]): Promise<void> {
  await eventually(() => sys.caughtUp(), 'the sink to commit everything on the topic', CATCH_UP_DEADLINE_MS, 250);

  const rs = await sys.clickhouse.client.query({
    query: `SELECT id, data FROM events_raw WHERE namespace = ${sqlString(tenant.orgId)}`,
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ id: string; data: string }>();
  const copies = new Map<string, number>();
  for (const r of rows) copies.set(r.id, (copies.get(r.id) ?? 0) + 1);
  const doubled = [...copies].filter(([, n]) => n > 1).map(([id]) => id);
  const expectedIds = new Set(sent.map((e) => e.id));
  const lost = [...expectedIds].filter((id) => !copies.has(id));
  const unexpected = [...copies.keys()].filter((id) => !expectedIds.has(id));
  expect({ doubled: doubled.slice(0, 10), lost: lost.slice(0, 10), unexpected: unexpected.slice(0, 10) }).toEqual({ doubled: [], lost: [], unexpected: [] });
  expect(rows.length).toBe(expectedIds.size);

  const expectedTotal = sum(new Map(sent.map((e) => [e.id, e.tokensHundredths])).values());
  const rawTotal = sum(rows.map((r) => hundredths(String((JSON.parse(r.data) as { tokens: number }).tokens))));
  expect(rawTotal).toBe(expectedTotal);

  const usage = await usageOf(sys.gatewayUrl, tenant.apiKey, { metric: METER_SLUG, ...wholeMinutesAround(Date.now(), 3_600_000, 3_600_000) });
  expect(hundredths(usage.total ?? 'null')).toBe(rawTotal);
  expect(sum(usage.rows.map((r) => BigInt(r.eventCount)))).toBe(BigInt(expectedIds.size));
}
