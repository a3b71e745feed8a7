import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import type { RunningSystem } from '@polaris/dev/launcher';
import { downOne, kafkaService, loadDevConfig, stackLayout, upOne } from '@polaris/dev/local-stack';
import { cloudEvent, eventually, postEvents } from './support/http';
import { E2E_PORTS } from './support/ports';
import { freePort, metric, repoRoot, startPrivate } from './support/private-services';
import { closeRowClients, rowsPerId } from './support/stored-rows';
import { createTenant, type Tenant } from './support/tenants';
import { groupReached, kafkaAt, topicEnds } from './support/topics';

/**
 * README, Operations guide, "Broker outage": the collector answers 503 `broker_unavailable` within
 * PUBLISH_TIMEOUT_MS; "an event may still reach the broker after a 503; the retry is then dropped
 * as a duplicate".
 *
 * A broker of its own is frozen (SIGSTOP) while the collector's produce request for the event
 * sits in its socket: the collector gives up after PUBLISH_TIMEOUT_MS and answers 503; the broker,
 * thawed (SIGCONT), then takes the request in, and a sink-worker of its own stores the event. The
 * client retries the same event and gets 202; ClickHouse still holds it exactly once, and the sink
 * counts the retry as a copy it already had (`sink_duplicates_dropped_total{where="store"}`).
 */
const PUBLISH_TIMEOUT_MS = 1_500;
/** How late past PUBLISH_TIMEOUT_MS the 503 may come on a loaded machine. */
const DEADLINE_MARGIN_MS = 3_000;
const SINK_GROUP = 'polaris-sink';
const quiet = () => undefined;

describe('a retry after a 503 is dropped as a duplicate', () => {
  let stackDir: string;
  let broker: ReturnType<typeof kafkaService>;
  let brokers: string[];
  let brokerPid: number | undefined;
  let frozen = false;
  let system: RunningSystem | undefined;
  let tenant: Tenant;
  let collectorUrl: string;
  let sinkOps: number;

  beforeAll(async () => {
    const kafkaPort = await freePort();
    stackDir = join(repoRoot, '.stack', `e2e-retry-${kafkaPort}`);
    const config = loadDevConfig({ POLARIS_STACK_DIR: stackDir, POLARIS_KAFKA_PORT: String(kafkaPort), POLARIS_KAFKA_CONTROLLER_PORT: String(await freePort()) });
    broker = kafkaService(config, stackLayout(config.stackDir));
    brokers = [`127.0.0.1:${kafkaPort}`];
    await upOne(broker, 120_000, quiet);
    brokerPid = Number(readFileSync(broker.pidFile, 'utf8').split('\n')[0]);
    const admin = kafkaAt(brokers).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: EVENTS_TOPIC, numPartitions: 1 }], waitForLeaders: true }).finally(() => admin.disconnect());

    tenant = await createTenant();
    const httpPort = await freePort();
    collectorUrl = `http://127.0.0.1:${httpPort}`;
    sinkOps = await freePort();
    system = await startPrivate('retry-after-503', [
      // Its own sink on its own broker, into the suite's ClickHouse database (the org is new),
      // under the suite's meter catalog (a sink stores events only under a catalog lease).
      {
        name: 'sink-worker',
        opsPort: sinkOps,
        env: { KAFKA_BROKERS: brokers.join(','), GRPC_PORT: String(await freePort()), METERS_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}` },
      },
      {
        name: 'collector',
        opsPort: await freePort(),
        env: {
          HTTP_PORT: String(httpPort),
          GRPC_PORT: String(await freePort()),
          KAFKA_BROKERS: brokers.join(','),
          IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
          PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
        },
      },
    ]);
  });

  afterAll(async () => {
    if (frozen && brokerPid) process.kill(brokerPid, 'SIGCONT');
    await system?.stop();
    if (broker) await downOne(broker, quiet);
    if (stackDir) rmSync(stackDir, { recursive: true, force: true });
    await closeRowClients();
  });

  it('answers 503 while the broker does not ack, the event lands anyway, and the retry (202) is stored once', async () => {
    // The path works: one event in, stored.
    const warm = cloudEvent({ source: 'e2e-retry' });
    expect((await postEvents(tenant.apiKey, warm, undefined, collectorUrl)).status).toBe(202);
    await eventually(async () => ((await rowsPerId(tenant.orgId)).get(warm.id) === 1 ? true : undefined), 'the first event to be stored');

    // The broker stops answering (frozen, its sockets still accept bytes): the collector gives up.
    const event = cloudEvent({ source: 'e2e-retry' });
    const pid = brokerPid;
    if (!pid) throw new Error('no broker pid');
    process.kill(pid, 'SIGSTOP');
    frozen = true;
    const started = Date.now();
    const refused = await postEvents(tenant.apiKey, event, undefined, collectorUrl);
    const tookMs = Date.now() - started;
    process.kill(pid, 'SIGCONT');
    frozen = false;
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'broker_unavailable' });
    expect(tookMs).toBeLessThan(PUBLISH_TIMEOUT_MS + DEADLINE_MARGIN_MS);

    // The refused event reaches the broker after all, and is stored.
    await eventually(async () => ((await rowsPerId(tenant.orgId)).get(event.id) === 1 ? true : undefined), 'the event answered 503 to be stored anyway');

    // The client retries, as told; the retry is accepted, and dropped by the sink as a duplicate.
    const retried = await postEvents(tenant.apiKey, event, undefined, collectorUrl);
    expect(retried).toEqual({ status: 202, body: { accepted: 1 } });
    const ends = await topicEnds(EVENTS_TOPIC, brokers);
    await eventually(() => groupReached(SINK_GROUP, EVENTS_TOPIC, ends, brokers), 'the sink to commit the retry');

    const rows = await rowsPerId(tenant.orgId);
    expect(Object.fromEntries(rows)).toEqual({ [warm.id]: 1, [event.id]: 1 });
    // Three messages on the topic (the first event, the refused one, its retry): the retry alone was a known copy.
    expect(ends.get(0)).toBe(3n);
    expect(await metric(sinkOps, 'sink_duplicates_dropped_total', { where: 'store' })).toBe(1);
    expect(await metric(sinkOps, 'sink_events_written_total')).toBe(2);
  });
});
