import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { produceThroughCollector } from './support/backlog';
import { eventually } from './support/http';
import { E2E_PORTS } from './support/ports';
import { freePort, metric, readyz, startPrivate, type Readiness } from './support/private-services';
import { createTenant } from './support/tenants';
import { createPrivateTopic, deleteTopicAndGroup } from './support/topics';

/**
 * README, Operations guide, "Health": /readyz answers 503 when a dependency does not answer, and
 * its body says which. The gateway's and the collector's cases are in dependencies-down; these are
 * the sink-worker's (ClickHouse down, and its consumer stalled because of it) and the
 * rating-worker's (PostgreSQL down). Each runs as a private copy with the dependency's address
 * pointed at a loopback port nothing listens on.
 */
const STALL_TIMEOUT_MS = 1_000;
const PENDING = 5;

const check = (body: Readiness, name: string) => body.checks?.find((c) => c.name === name);

describe('readiness names the dependency that does not answer', () => {
  const systems: RunningSystem[] = [];
  let topic: string | undefined;
  const group = `e2e-readiness-${randomUUID().slice(0, 8)}`;
  let sinkOps: number;
  let ratingOps: number;

  beforeAll(async () => {
    const tenant = await createTenant();
    topic = await createPrivateTopic('readiness', 1);
    // Messages the sink must store, and cannot.
    await produceThroughCollector({ label: 'readiness', topic, apiKey: tenant.apiKey, count: PENDING, batchSize: PENDING });
    sinkOps = await freePort();
    ratingOps = await freePort();
    // waitFor healthz: alive, and rightly not ready.
    systems.push(
      await startPrivate('readiness', [
        {
          name: 'sink-worker',
          opsPort: sinkOps,
          waitFor: 'healthz',
          env: {
            CLICKHOUSE_URL: `http://127.0.0.1:${await freePort()}`,
            EVENTS_TOPIC: topic,
            KAFKA_GROUP_ID: group,
            SINK_STALL_TIMEOUT_MS: String(STALL_TIMEOUT_MS),
            GRPC_PORT: String(await freePort()),
            // The suite's meter catalog, so that ClickHouse is the one dependency missing.
            METERS_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
          },
        },
        {
          name: 'rating-worker',
          opsPort: ratingOps,
          waitFor: 'healthz',
          env: { DATABASE_URL: `postgres://polaris:polaris@127.0.0.1:${await freePort()}/polaris`, GRPC_PORT: String(await freePort()) },
        },
      ]),
    );
  });

  afterAll(async () => {
    for (const s of systems) await s.stop();
    if (topic) await deleteTopicAndGroup(topic, group);
  });

  it('sink-worker, ClickHouse unreachable: not ready, naming clickhouse; then its consumer stalls and /readyz names the partition', async () => {
    const first = await readyz(sinkOps);
    expect(first.status).toBe(503);
    expect(first.body.status).toBe('not_ready');
    expect(check(first.body, 'clickhouse')).toMatchObject({ ok: false, critical: true, error: expect.stringMatching(/ECONNREFUSED/) });

    // The messages cannot be stored, so their offsets are not committed: after SINK_STALL_TIMEOUT_MS
    // the consumer check fails too, naming the partition and how many messages wait.
    const stalled = await eventually(async () => {
      const r = await readyz(sinkOps);
      return check(r.body, 'consumer')?.error?.startsWith('consumer stalled') ? r : undefined;
    }, 'the consumer check to report a stall', 30_000);
    expect(stalled.status).toBe(503);
    expect(check(stalled.body, 'consumer')).toMatchObject({
      ok: false,
      critical: true,
      error: expect.stringMatching(new RegExp(`^consumer stalled \\(no progress for more than 1 s\\): partition 0: ${PENDING} message\\(s\\) pending, no commit for \\d+ s$`)),
    });
    expect(check(stalled.body, 'clickhouse')?.ok).toBe(false);
    expect(await metric(sinkOps, 'sink_consumer_stalled')).toBe(1);
    expect(await metric(sinkOps, 'sink_store_errors_total')).toBeGreaterThan(0);
    // Alive all along: a store outage is waited out, not a reason to restart the pod.
    expect((await fetch(`http://127.0.0.1:${sinkOps}/healthz`)).status).toBe(200);
  });

  it('rating-worker, PostgreSQL unreachable: not ready, naming postgres', async () => {
    const r = await readyz(ratingOps);
    expect(r.status).toBe(503);
    expect(r.body).toEqual({
      status: 'not_ready',
      checks: expect.arrayContaining([{ name: 'postgres', ok: false, critical: true, error: expect.stringMatching(/ECONNREFUSED/) }]),
    });
    // Redis (the rating queue) is reported but not critical: gRPC keeps serving without it.
    const failingCritical = (r.body as { checks: Array<{ name: string; ok: boolean; critical: boolean }> }).checks.filter((c) => c.critical && !c.ok);
    expect(failingCritical.map((c) => c.name)).toEqual(['postgres']);
    expect((await fetch(`http://127.0.0.1:${ratingOps}/healthz`)).status).toBe(200);
  });
});
