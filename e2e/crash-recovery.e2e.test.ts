import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem, ServiceSpec } from '@polaris/dev/launcher';
import { throwawayDatabase, type ThrowawayDatabase } from '@polaris/clickhouse/testing';
import { produceThroughCollector } from './support/backlog';
import { eventually } from './support/http';
import { E2E_PORTS } from './support/ports';
import { freePort, metric, serviceOf, startPrivate } from './support/private-services';
import { closeRowClients, identitiesPerId, rowCount, rowsPerId } from './support/stored-rows';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';
import { createTenant, type Tenant } from './support/tenants';
import { committedOffsets, createPrivateTopic, deleteTopicAndGroup, groupReached, sumOffsets, topicEnds } from './support/topics';

/**
 * docs/ARCHITECTURE.md, "Idempotency", step 3, and README "Replay": a crash between the INSERT and
 * the offset commit replays the batch, and the "already stored?" probe turns the replay into a
 * no-op: one row per event remains, and `sink_duplicates_dropped_total{where="store"}` counts the
 * replayed copies.
 *
 * The crash window is made exact rather than hoped for: the sink reaches ClickHouse through a
 * proxy that passes the INSERT to ClickHouse but holds back its answer. Once the rows are in
 * ClickHouse (read directly) the sink is still waiting for that answer, so it cannot have
 * committed; it is SIGKILLed right there. A new sink on the same group then has to wait for the
 * dead member's session (the consumer's 30 s sessionTimeout) to expire before it gets the partition.
 *
 * The two records of an event, its row and its identity (event_identities_v2, what the probe
 * reads), are one write: ClickHouse makes the identity from the same INSERT. So when the event is
 * there at the kill, its identity is too, and the replay can neither store it again (event without
 * identity) nor drop it (identity without event).
 */
const EVENTS = 200;
/** The dead member's session timeout (EventsConsumer: 30 s) plus a generous margin for the rejoin. */
const REJOIN_DEADLINE_MS = 75_000;
const CLICKHOUSE = new URL(process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:58123');

describe('sink-worker killed between the INSERT and the offset commit', () => {
  let tenant: Tenant;
  let topic: string;
  const group = `e2e-crash-${randomUUID().slice(0, 8)}`;
  let db: ThrowawayDatabase;
  let proxy: TcpProxy;
  const systems: RunningSystem[] = [];

  beforeAll(async () => {
    tenant = await createTenant();
    topic = await createPrivateTopic('crash', 1);
    db = await throwawayDatabase();
    proxy = await startTcpProxy({ host: CLICKHOUSE.hostname, port: Number(CLICKHOUSE.port) });
  });

  afterAll(async () => {
    for (const s of systems.reverse()) await s.stop();
    await proxy?.close();
    await db?.drop();
    if (topic) await deleteTopicAndGroup(topic, group);
    await closeRowClients();
  });

  const sinkSpec = async (): Promise<ServiceSpec> => ({
    name: 'sink-worker',
    opsPort: await freePort(),
    env: {
      CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}`,
      CLICKHOUSE_DATABASE: db.database,
      EVENTS_TOPIC: topic,
      KAFKA_GROUP_ID: group,
      GRPC_PORT: String(await freePort()),
      // The suite's meter catalog: a sink stores events only under a catalog lease.
      METERS_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
    },
  });

  it('replays the batch after a SIGKILL: one row per event, and the replayed copies counted as store duplicates', { timeout: 150_000 }, async () => {
    const ids = await produceThroughCollector({ label: 'crash', topic, apiKey: tenant.apiKey, count: EVENTS });
    const ends = await topicEnds(topic);

    const hold = proxy.holdAnswersTo(/query=INSERT/i);
    const firstSpec = await sinkSpec();
    const first = await startPrivate('crash', [firstSpec]);
    systems.push(first);
    const victim = serviceOf(first, 'sink-worker');
    await hold.caught;
    const inserted = await eventually(async () => {
      const n = await rowCount(tenant.orgId, db.database);
      return n > 0 ? n : undefined;
    }, 'the INSERT to land in ClickHouse');
    expect(inserted).toBe(EVENTS);
    const identitiesAtKill = await identitiesPerId(tenant.orgId, db.database);
    expect([...identitiesAtKill.keys()].sort()).toEqual([...ids].sort());
    // Still waiting for ClickHouse's answer: nothing is committed, and nothing can be before the kill.
    expect(hold.held()).toBe(1);
    expect(await metric(firstSpec.opsPort, 'sink_events_written_total')).toBe(0);

    victim.process.kill('SIGKILL');
    expect(await victim.process.waitForExit(10_000)).toBe(true);
    expect(victim.process.exitStatus()).toEqual({ code: null, signal: 'SIGKILL' });
    systems.splice(systems.indexOf(first), 1); // killed on purpose: nothing to stop
    hold.release();
    expect(sumOffsets(await committedOffsets(group, topic))).toBe(0);

    // A new sink on the same group replays from the committed offset (the beginning).
    const secondSpec = await sinkSpec();
    systems.push(await startPrivate('crash', [secondSpec], REJOIN_DEADLINE_MS));
    await eventually(() => groupReached(group, topic, ends), 'the restarted sink to commit the replayed batch', REJOIN_DEADLINE_MS);

    // Physical rows, no FINAL: exactly one per event.
    expect(await rowCount(tenant.orgId, db.database)).toBe(EVENTS);
    const rows = await rowsPerId(tenant.orgId, db.database);
    expect([...rows.keys()].sort()).toEqual([...ids].sort());
    expect([...rows.values()].filter((n) => n !== 1)).toEqual([]);
    const identities = await identitiesPerId(tenant.orgId, db.database);
    expect([...identities.keys()].sort()).toEqual([...ids].sort());
    expect([...identities.values()].filter((n) => n !== 1)).toEqual([]);
    // Every replayed copy was found already stored by the probe, and none was written again.
    expect(await metric(secondSpec.opsPort, 'sink_duplicates_dropped_total', { where: 'store' })).toBe(EVENTS);
    expect(await metric(secondSpec.opsPort, 'sink_duplicates_dropped_total', { where: 'batch' })).toBe(0);
    expect(await metric(secondSpec.opsPort, 'sink_events_written_total')).toBe(0);
  });
});
