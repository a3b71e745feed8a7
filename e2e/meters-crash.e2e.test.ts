import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meterUsage, type MeterUsageResult } from '@polaris/clickhouse';
import type { MeterDefinition } from '@polaris/shared/meters';
import { eventually } from './support/http';
import { distinctIdentities, meterData, meterEvent, pick, seededRandom, sendAll, type MeterEvent } from './support/meter-events';
import { answeringVersionId, createMeter, usageOf, waitForBackfill, type MeterInput, type UsageArgs } from './support/meters';
import { comparable, expectedUsage, sortedRows, type ComparableRow } from './support/meters-expected';
import { startMeterSystem, type MeterSystem } from './support/meters-system';
import { metric } from './support/private-services';
import { closeRowClients, rowCount, rowsPerId } from './support/stored-rows';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';
import type { Tenant } from './support/tenants';

/**
 * docs/meters.md, "Storage in ClickHouse": the rollups' views fire on every INSERT, so an event
 * inserted twice would be counted twice by SUM, COUNT and AVG; the sink's probe keeping stored
 * identities out of events_raw is what keeps the rollups exact. Here the meters exist first, then
 * events arrive with exact duplicates in one request, retries of the same identity (identical, and
 * with other data: the first copy counts), and the sink is SIGKILLed right after an INSERT landed
 * and before its offsets were committed (its answer held back by a proxy, as in
 * crash-recovery.e2e.test.ts). A new sink replays the batch. Afterwards every event is stored
 * once, and the API's usage (rollups) equals both meterUsage.queryRaw over events_raw FINAL and
 * the answer computed in the test from the events sent.
 */

const DAY = 86_400_000;
const TYPE = 'api.call';
const SUBJECTS = ['cust-a', 'cust-b', 'cust-c'];
const SEED = Number(process.env.E2E_METERS_SEED ?? Date.now() % 1_000_000);
/** The dead member's session timeout (EventsConsumer: 30 s) plus a generous margin for the rejoin. */
const REJOIN_DEADLINE_MS = 75_000;
const CLICKHOUSE = new URL(process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:58123');
const DIMENSIONS = [{ name: 'model', path: '$.model' }];

const METERS: MeterInput[] = [
  { slug: 'tokens', name: 'Tokens', eventType: TYPE, aggregation: 'SUM', valuePath: '$.tokens', dimensions: DIMENSIONS },
  { slug: 'calls', name: 'Calls', eventType: TYPE, aggregation: 'COUNT', dimensions: DIMENSIONS },
  { slug: 'users', name: 'Users', eventType: TYPE, aggregation: 'UNIQUE_COUNT', uniquePath: '$.user', dimensions: DIMENSIONS },
  { slug: 'mean', name: 'Mean', eventType: TYPE, aggregation: 'AVG', valuePath: '$.tokens', dimensions: DIMENSIONS },
  { slug: 'lowest', name: 'Min', eventType: TYPE, aggregation: 'MIN', valuePath: '$.tokens', dimensions: DIMENSIONS },
  { slug: 'highest', name: 'Max', eventType: TYPE, aggregation: 'MAX', valuePath: '$.tokens', dimensions: DIMENSIONS },
  { slug: 'latest', name: 'Latest', eventType: TYPE, aggregation: 'LATEST', valuePath: '$.tokens', dimensions: DIMENSIONS },
];

const definitionOf = (input: MeterInput): MeterDefinition => ({
  eventType: input.eventType,
  aggregation: input.aggregation,
  ...(input.valuePath ? { valuePath: input.valuePath } : {}),
  ...(input.uniquePath ? { uniquePath: input.uniquePath } : {}),
  dimensions: input.dimensions ?? [],
});

/** meterUsage.queryRaw's rows in the comparable shape (subject '' = not grouped). */
const rawRows = (result: MeterUsageResult, bySubject: boolean): ComparableRow[] =>
  result.rows.map((r) => ({
    windowStartMs: r.windowStartMs,
    windowEndMs: r.windowEndMs,
    subject: bySubject ? r.subject : null,
    dimensions: r.dimensions,
    value: r.value ?? null,
    eventCount: r.eventCount,
    invalidCount: r.invalidCount,
  }));

describe('meters: duplicates, retries and a sink killed between INSERT and commit', () => {
  let proxy: TcpProxy;
  let sys: MeterSystem;
  let tenant: Tenant;
  const random = seededRandom(SEED);
  const today = Math.floor(Date.now() / DAY) * DAY;
  const day0 = today - 3 * DAY;
  const range = { from: new Date(day0).toISOString(), to: new Date(today + 2 * DAY).toISOString() };

  beforeAll(async () => {
    console.log(`meters-crash: seed ${SEED} (E2E_METERS_SEED to replay)`);
    proxy = await startTcpProxy({ host: CLICKHOUSE.hostname, port: Number(CLICKHOUSE.port) });
    sys = await startMeterSystem({ label: 'meters-crash', sinkEnv: { CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}` } });
    tenant = await sys.createTenant();
  });
  afterAll(async () => {
    await sys?.stop();
    await proxy?.close();
    await closeRowClients();
  });

  const fresh = (n: number) =>
    Array.from({ length: n }, () =>
      meterEvent({
        type: TYPE,
        subject: pick(random, SUBJECTS),
        timeMs: random() < 0.5 ? Date.now() - Math.floor(random() * 60_000) : day0 + Math.floor(random() * 3 * DAY),
        dataJson: meterData(random),
      }),
    );
  /** A batch with `copies` exact duplicates of its own events mixed in. */
  const withDuplicates = (batch: MeterEvent[], copies: number) => {
    const out = [...batch];
    for (let i = 0; i < copies; i++) out.splice(Math.floor(random() * out.length) + 1, 0, { ...pick(random, batch) });
    return out;
  };

  it('stores each event once and counts it once, through duplicates, retries and a SIGKILL; rollups == raw == computed', { timeout: 150_000 }, async () => {
    for (const input of METERS) await createMeter(sys.gatewayUrl, tenant.apiKey, input);
    for (const input of METERS) await waitForBackfill(sys.gatewayUrl, tenant.apiKey, input.slug);

    // The sink's next INSERT reaches ClickHouse, but its answer is held: stored, not committed.
    const hold = proxy.holdAnswersTo(/query=INSERT/i);
    const sent: MeterEvent[] = [];
    const first = fresh(300);
    const firstRequests = [0, 100, 200].map((i) => withDuplicates(first.slice(i, i + 100), 10));
    for (const batch of firstRequests) await sendAll(sys.collectorUrl, tenant.apiKey, batch);
    sent.push(...firstRequests.flat());
    await hold.caught;
    const landed = await eventually(async () => {
      const n = await rowCount(tenant.orgId, sys.clickhouse.database);
      return n > 0 ? n : undefined;
    }, 'the held INSERT to land in ClickHouse');
    expect(await metric(sys.sinkOpsPort(), 'sink_events_written_total')).toBe(0);
    await sys.killSink();
    hold.release();

    // While no sink runs: retries of stored events (identical, and with other data), new events
    // with their own duplicates. The collector does not need the sink.
    const identicalRetries = first.filter(() => random() < 0.3).map((e) => ({ ...e }));
    const changedRetries = first.filter(() => random() < 0.1).map((e) => ({ ...e, dataJson: '{"tokens":1000000,"model":"retry","user":"retry"}' }));
    const later = fresh(200);
    const secondRequests = [withDuplicates([...identicalRetries, ...later.slice(0, 100)], 10), [...changedRetries, ...withDuplicates(later.slice(100), 10)]];
    for (const batch of secondRequests) await sendAll(sys.collectorUrl, tenant.apiKey, batch);
    sent.push(...secondRequests.flat());

    // A new sink on the same group replays from the last commit, once the dead member's session expires.
    await sys.restartSink(REJOIN_DEADLINE_MS);
    await eventually(() => sys.caughtUp(), 'the restarted sink to commit everything', REJOIN_DEADLINE_MS);
    const replayedAsStored = await metric(sys.sinkOpsPort(), 'sink_duplicates_dropped_total', { where: 'store' });
    console.log(
      `meters-crash: ${sent.length} events sent, ${distinctIdentities(sent)} identities; ${landed} stored by the killed sink; the new sink found ${replayedAsStored} already stored (replay and retries)`,
    );
    // At least the events of the INSERT that landed before the kill came again, and were found stored.
    expect(replayedAsStored).toBeGreaterThanOrEqual(landed);

    // One physical row per identity (no FINAL): nothing stored twice.
    const rows = await rowsPerId(tenant.orgId, sys.clickhouse.database);
    expect(rows.size).toBe(distinctIdentities(sent));
    expect([...rows.values()].filter((n) => n !== 1)).toEqual([]);

    for (const input of METERS) {
      const definition = definitionOf(input);
      const versionId = await answeringVersionId(sys.databaseUrl, tenant.orgId, input.slug);
      const questions: Array<{ args: UsageArgs; bySubject: boolean }> = [
        { args: { metric: input.slug, ...range }, bySubject: false },
        { args: { metric: input.slug, ...range, windowSize: 'DAY', groupBy: ['subject', 'model'] }, bySubject: true },
      ];
      for (const { args, bySubject } of questions) {
        const expected = expectedUsage(sent, definition, args);
        const api = comparable(await usageOf(sys.gatewayUrl, tenant.apiKey, args));
        expect(api, `${input.slug} (rollups) ${JSON.stringify(args.groupBy ?? [])}`).toEqual(expected);
        const raw = await meterUsage.queryRaw(sys.clickhouse.client, {
          namespace: tenant.orgId,
          meterVersionId: versionId,
          aggregation: input.aggregation,
          fromMs: Date.parse(range.from),
          toMs: Date.parse(range.to),
          windowSize: args.windowSize === 'DAY' ? 'day' : 'none',
          groupBySubject: bySubject,
          groupByDimensions: bySubject ? [{ index: 0, name: 'model' }] : [],
        });
        expect({ invalidCount: raw.invalidCount, rows: sortedRows(rawRows(raw, bySubject)) }, `${input.slug} (raw) ${JSON.stringify(args.groupBy ?? [])}`).toEqual({
          invalidCount: expected.invalidCount,
          rows: expected.rows,
        });
      }
    }
  });
});
