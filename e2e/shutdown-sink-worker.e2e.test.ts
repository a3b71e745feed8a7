import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem, ServiceSpec } from '@polaris/dev/launcher';
import { throwawayDatabase, type ThrowawayDatabase } from '@polaris/clickhouse/testing';
import { produceThroughCollector } from './support/backlog';
import { eventually } from './support/http';
import { E2E_PORTS } from './support/ports';
import { freePort, hasExited, metric, readyz, serviceOf, sigterm, startPrivate, type Exit, type Readiness } from './support/private-services';
import { closeRowClients, rowCount, rowsPerId } from './support/stored-rows';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';
import { createTenant, type Tenant } from './support/tenants';
import { committedOffsets, createPrivateTopic, deleteTopicAndGroup, groupReached, sumOffsets, topicEnds } from './support/topics';

/**
 * README, Operations guide, "Shutdown", for the sink-worker: on SIGTERM readiness goes off, what
 * was read (the flush in flight and the batches gathered behind it) is stored and committed, nothing
 * more is read, the consumer leaves the group, and the process exits 0 within
 * SHUTDOWN_TIMEOUT_MS. A sink started again on the same group goes on from the committed offsets:
 * every message of the backlog ends up stored exactly once (committed offsets never skip one).
 *
 * The batch in hand is made certain: the sink reaches ClickHouse through a proxy that lets the
 * first INSERT through to ClickHouse but holds back its answer, so SIGTERM arrives with the rows
 * written and the sink still waiting to commit them. One scenario (beforeAll), several claims.
 */
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** How late past its own deadline the exit may be seen on a loaded machine. */
const EXIT_MARGIN_MS = 5_000;
const BACKLOG = 6_000;
const PARTITIONS = 3;
const CLICKHOUSE = new URL(process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:58123');

interface Observed {
  ids: string[];
  /** Rows of the batch in hand, in ClickHouse before SIGTERM. */
  inHand: number;
  readiness: { status: number; body: Readiness };
  exitedBeforeRelease: boolean;
  heldBeforeRelease: number;
  exit: Exit;
  /** After the first sink exited. */
  stored: number;
  committed: number;
  /** After a second sink on the same group caught up. */
  rows: Map<string, number>;
  replayedDuplicates: number;
  written: number;
}

describe('sink-worker: SIGTERM with a backlog', () => {
  let tenant: Tenant;
  let topic: string;
  const group = `e2e-shutdown-sink-${randomUUID().slice(0, 8)}`;
  let db: ThrowawayDatabase;
  let proxy: TcpProxy;
  const systems: RunningSystem[] = [];
  let seen: Observed;

  const sinkSpec = async (opsPort: number): Promise<ServiceSpec> => ({
    name: 'sink-worker',
    opsPort,
    env: {
      CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}`,
      CLICKHOUSE_DATABASE: db.database,
      EVENTS_TOPIC: topic,
      KAFKA_GROUP_ID: group,
      GRPC_PORT: String(await freePort()),
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      // Flushes smaller than the backlog, so that the flush in flight is not all of it (the
      // default gathers up to 20,000 events, more than this test's backlog).
      SINK_FLUSH_MAX_EVENTS: '1000',
      // The suite's meter catalog: a sink stores events only under a catalog lease.
      METERS_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
    },
  });

  beforeAll(async () => {
    tenant = await createTenant();
    topic = await createPrivateTopic('shutdown-sink', PARTITIONS);
    db = await throwawayDatabase();
    proxy = await startTcpProxy({ host: CLICKHOUSE.hostname, port: Number(CLICKHOUSE.port) });

    const ids = await produceThroughCollector({ label: 'shutdown-sink', topic, apiKey: tenant.apiKey, count: BACKLOG });
    const ends = await topicEnds(topic);
    if (sumOffsets(ends) !== BACKLOG) throw new Error(`the topic holds ${sumOffsets(ends)} messages, not ${BACKLOG}`);

    const hold = proxy.holdAnswersTo(/query=INSERT/i);
    const opsPort = await freePort();
    const first = await startPrivate('shutdown-sink', [await sinkSpec(opsPort)]);
    systems.push(first);
    const sink = serviceOf(first, 'sink-worker');

    // The first batch's rows are in ClickHouse; the sink has not heard back, so cannot have committed.
    await hold.caught;
    const inHand = await eventually(async () => {
      const n = await rowCount(tenant.orgId, db.database);
      return n > 0 ? n : undefined;
    }, 'the rows of the first batch to reach ClickHouse');

    const term = sigterm(sink, SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
    const readiness = await eventually(async () => {
      const r = await readyz(opsPort);
      return r.status === 503 ? r : undefined;
    }, 'the sink-worker /readyz to turn 503', 5_000, 20);
    const exitedBeforeRelease = hasExited(sink);
    const heldBeforeRelease = hold.held();
    hold.release();
    const exit = await term.exited;
    const stored = await rowCount(tenant.orgId, db.database);
    const committed = sumOffsets(await committedOffsets(group, topic));

    // A new sink on the same group takes over from the committed offsets.
    const secondOps = await freePort();
    systems.push(await startPrivate('shutdown-sink', [await sinkSpec(secondOps)]));
    await eventually(() => groupReached(group, topic, ends), 'the restarted sink to commit the whole backlog', 60_000);
    seen = {
      ids,
      inHand,
      readiness,
      exitedBeforeRelease,
      heldBeforeRelease,
      exit,
      stored,
      committed,
      rows: await rowsPerId(tenant.orgId, db.database),
      replayedDuplicates: await metric(secondOps, 'sink_duplicates_dropped_total', { where: 'store' }),
      written: await metric(secondOps, 'sink_events_written_total'),
    };
  });

  afterAll(async () => {
    for (const s of systems.reverse()) await s.stop();
    await proxy?.close();
    await db?.drop();
    if (topic) await deleteTopicAndGroup(topic, group);
    await closeRowClients();
  });

  it('turns not ready first, while the batch in hand still waits on ClickHouse', () => {
    expect(seen.readiness.body).toEqual({ status: 'shutting_down' });
    expect(seen.exitedBeforeRelease).toBe(false);
    expect(seen.heldBeforeRelease).toBe(1);
  });

  it('finishes what it had read (the flush in flight and the batches gathered behind it), then exits 0 within SHUTDOWN_TIMEOUT_MS', () => {
    expect(seen.exit).toMatchObject({ code: 0, signal: null });
    expect(seen.exit.ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
    // Flushes gather several partitions' batches (SINK_FLUSH_MAX_*): while the held INSERT waited,
    // the other partitions' batches were read into the buffer, and stop() stores them too.
    expect(seen.stored).toBeGreaterThanOrEqual(seen.inHand);
    expect(seen.stored).toBeLessThanOrEqual(BACKLOG);
    // Committed offsets never run ahead of what is stored.
    expect(seen.committed).toBeLessThanOrEqual(seen.stored);
  });

  it('after a restart on the same group every message is stored exactly once, whatever was left uncommitted dropped as a duplicate', () => {
    expect(seen.rows.size).toBe(BACKLOG);
    expect([...seen.rows.keys()].sort()).toEqual([...seen.ids].sort());
    expect([...seen.rows.values()].filter((n) => n !== 1)).toEqual([]);
    expect(seen.replayedDuplicates).toBe(seen.stored - seen.committed);
    expect(seen.written).toBe(BACKLOG - seen.stored);
  });

  // Found by this test: the sink committed with `consumer.commitOffsets`, which kafkajs skips
  // once disconnect() has begun, so every graceful stop left the batch in hand uncommitted (the
  // next owner replayed it). It now commits through the batch's own commitOffsetsIfNecessary.
  it('commits the batch in hand before it exits, so a restart replays nothing', () => {
    expect(seen.committed).toBe(seen.stored);
    expect(seen.replayedDuplicates).toBe(0);
  });
});
