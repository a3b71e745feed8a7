import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/http';
import { meterEvent, sendAll } from './support/meter-events';
import { createMeter, getMeter, usageOf, waitForBackfill } from './support/meters';
import { startMeterSystem, type MeterSystem } from './support/meters-system';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';
import type { Tenant } from './support/tenants';

/**
 * docs/meters.md, "Catalog revisions, leases and backfill": a backfill counts the events stored
 * with a revision below its version's, so it must not read past an INSERT still in flight that
 * was stamped before the version existed. The case a lease's expiry does not cover: the sink
 * stamps a batch with its catalog (no meter yet), sends the INSERT, and while that INSERT is
 * slow its background sync goes on; if its lease then held the new revision, the backfill could
 * start, read events_raw without the event and complete, and the INSERT land afterwards with
 * the old revision: neither path would count the event. The lease must hold the oldest revision
 * of an INSERT in flight instead, and the backfill wait for it.
 *
 * Made deterministic with a proxy that holds the sink's INSERT request before it reaches
 * ClickHouse (a slow network or a slow insert) for a few seconds, far below the sink's insert
 * timeout (CLICKHOUSE_REQUEST_TIMEOUT_MS, 30 s).
 */

const CLICKHOUSE = new URL(process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:58123');
const TYPE = 'slow.insert';
/** How long the INSERT is held: several catalog syncs and backfill polls (1 s and 0.5 s in e2e). */
const HOLD_MS = 5_000;
const minute = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString();

describe('meters: an INSERT in flight while a meter is created', () => {
  let proxy: TcpProxy;
  let sys: MeterSystem;
  let tenant: Tenant;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: CLICKHOUSE.hostname, port: Number(CLICKHOUSE.port) });
    sys = await startMeterSystem({ label: 'meters-in-flight', sinkEnv: { CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}` } });
    tenant = await sys.createTenant();
  });
  afterAll(async () => {
    await sys?.stop();
    await proxy?.close();
  });

  it('counts an event whose INSERT was stamped before the meter existed and was still in flight when the meter was created', { timeout: 90_000 }, async () => {
    const gate = proxy.holdRequestsTo(/query=INSERT/i);
    await sendAll(sys.collectorUrl, tenant.apiKey, [meterEvent({ type: TYPE, subject: 'cust-1', timeMs: Date.now() - 3_600_000, dataJson: '{"tokens":5}' })]);
    await gate.caught; // stamped with the catalog of before the meter, on its way to ClickHouse

    await createMeter(sys.gatewayUrl, tenant.apiKey, { slug: 'slow_tokens', name: 'Tokens', eventType: TYPE, aggregation: 'SUM', valuePath: '$.tokens' });
    const completedWhileHeld = await eventually(
      async () => ((await getMeter(sys.gatewayUrl, tenant.apiKey, 'slow_tokens')).latestBackfill?.state === 'completed' ? true : undefined),
      'the backfill to complete while the INSERT is held',
      HOLD_MS,
    ).catch(() => false);
    // It must wait: with the event not yet in ClickHouse, a completed backfill has read past it.
    expect(completedWhileHeld, 'the backfill completed while an INSERT stamped before its version was in flight').toBe(false);
    gate.release();

    await eventually(() => sys.caughtUp(), 'the held INSERT to land and be committed');
    await waitForBackfill(sys.gatewayUrl, tenant.apiKey, 'slow_tokens');
    const usage = await usageOf(sys.gatewayUrl, tenant.apiKey, { metric: 'slow_tokens', from: minute(Date.now() - 86_400_000), to: minute(Date.now() + 86_400_000) });
    expect({ complete: usage.complete, total: usage.total, events: usage.rows[0]?.eventCount ?? '0' }).toEqual({ complete: true, total: '5', events: '1' });
  });
});
