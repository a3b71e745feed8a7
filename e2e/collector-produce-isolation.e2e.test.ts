import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import type { RunningSystem } from '@polaris/dev/launcher';
import { EVENTS_TOPIC, EVENTS_TOPIC_PARTITIONS, eventMessageKey } from '@polaris/shared/contracts';
import { collectorUrl, E2E_PORTS } from './support/ports';
import { freePort, metric, startPrivate } from './support/private-services';
import { createTenant, type Tenant } from './support/tenants';
import { cloudEvent, eventually, postEvents } from './support/http';
import { rowsPerId } from './support/stored-rows';

// Issue 13: one produce request mixes several tenants' requests. A 1 MiB request of 70 events
// whose `1e20` numbers grow about 5× once re-serialized, with ids on one partition, encoded to
// 4.6 MB; the broker refused that partition's batch as too large, and every request in the
// produce request failed: another tenant got 503 on 7 of 60 requests.

const SOURCE = 'e2e-produce-isolation';
/** Numbers per event: `1e20,` is 5 bytes in the body and `100000000000000000000,` 22 once encoded, just under the 64 KiB data limit. */
const NUMBERS_PER_EVENT = 2_900;
const BIG_EVENTS = 70;

/** The partition kafkajs' default partitioner (the collector's) gives a key on the events topic. */
const partitionOf = (() => {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: EVENTS_TOPIC_PARTITIONS }, (_, partitionId) => ({
    partitionId, leader: 1, replicas: [1], isr: [1], offlineReplicas: [], partitionErrorCode: 0,
  }));
  return (key: string) => partitioner({ topic: EVENTS_TOPIC, partitionMetadata, message: { key, value: null } });
})();

/** `n` event ids of this organization whose messages all land on partition 0. */
function idsOnOnePartition(orgId: string, n: number): string[] {
  const ids: string[] = [];
  while (ids.length < n) {
    const id = `big-${randomUUID()}`;
    if (partitionOf(eventMessageKey(orgId, { source: SOURCE, id })) === 0) ids.push(id);
  }
  return ids;
}

/**
 * The body of the reproduction, as text: JSON.stringify would write each 1e20 as its 21 digits,
 * which is exactly the growth the collector meets when it re-serializes the parsed numbers.
 */
function bigBody(ids: string[]): string {
  const numbers = Array(NUMBERS_PER_EVENT).fill('1e20').join(',');
  const time = new Date().toISOString();
  return `[${ids.map((id) => `{"specversion":"1.0","id":"${id}","source":"${SOURCE}","type":"api.request","subject":"s","time":"${time}","data":{"q":[${numbers}]}}`).join(',')}]`;
}

interface Run {
  big: { status: number; body: Record<string, unknown> };
  others: Array<{ status: number; ids: string[] }>;
}

/**
 * The big request and another tenant's 60 small requests, sent together so that they share
 * produce requests: the small ones start first and keep coming while the big one is in flight.
 */
async function sendTogether(url: string, big: Tenant, other: Tenant, bigIds: string[]): Promise<Run> {
  const body = bigBody(bigIds);
  const small = async (): Promise<{ status: number; ids: string[] }> => {
    const events = Array.from({ length: 5 }, () => cloudEvent({ source: SOURCE }));
    const res = await postEvents(other.apiKey, events, 'application/cloudevents-batch+json', url);
    return { status: res.status, ids: events.map((e) => e.id) };
  };
  const others: Array<Promise<{ status: number; ids: string[] }>> = [];
  for (let i = 0; i < 20; i++) others.push(small());
  const bigAnswer = postEvents(big.apiKey, body, 'application/cloudevents-batch+json', url);
  for (let i = 0; i < 40; i++) others.push(small());
  return { big: await bigAnswer, others: await Promise.all(others) };
}

/** Waits until every id is stored, then checks each is stored exactly once and nothing else is. */
async function expectStoredOnce(orgId: string, ids: string[]): Promise<void> {
  const rows = await eventually(async () => {
    const stored = await rowsPerId(orgId);
    return ids.every((id) => stored.has(id)) ? stored : undefined;
  }, `${ids.length} events of ${orgId} to be stored`, 60_000);
  expect([...rows.keys()].sort()).toEqual([...ids].sort());
  expect([...rows.values()].every((n) => n === 1)).toBe(true);
}

describe('one tenant cannot fail another tenant’s produce', () => {
  it('the 1e20 request on one partition is refused alone (413 encoded_too_large); the other tenant gets only 202s', async () => {
    const [big, other] = await Promise.all([createTenant(), createTenant()]);
    const bigIds = idsOnOnePartition(big.orgId, BIG_EVENTS);
    expect(Buffer.byteLength(bigBody(bigIds))).toBeLessThanOrEqual(1024 * 1024);

    const run = await sendTogether(collectorUrl, big, other, bigIds);
    expect(run.big.status).toBe(413);
    expect(run.big.body).toMatchObject({ error: { code: 'encoded_too_large', message: expect.stringMatching(/MAX_ENCODED_BYTES_PER_REQUEST/) } });
    expect(run.others.map((r) => r.status)).toEqual(Array(60).fill(202));
    await expectStoredOnce(other.orgId, run.others.flatMap((r) => r.ids));
    expect((await rowsPerId(big.orgId)).size).toBe(0);
  });

  it('a request under the encoded cap but over one produce request (1.9 MB on one partition) is split by size: 202, stored once', async () => {
    const big = await createTenant();
    const ids = idsOnOnePartition(big.orgId, 30);
    const res = await postEvents(big.apiKey, bigBody(ids), 'application/cloudevents-batch+json');
    expect(res.status).toBe(202);
    await expectStoredOnce(big.orgId, ids);
  });

  describe('when the broker itself refuses a produce request as too large', () => {
    // A collector whose caps let the 4.6 MB through to the broker (1 MiB per partition batch):
    // the broker's MESSAGE_TOO_LARGE path, which failed every request in the produce request.
    let system: RunningSystem | undefined;
    let url: string;
    let opsPort: number;

    beforeAll(async () => {
      const httpPort = await freePort();
      opsPort = await freePort();
      url = `http://127.0.0.1:${httpPort}`;
      system = await startPrivate('collector-produce-isolation', [
        {
          name: 'collector',
          opsPort,
          env: {
            HTTP_PORT: String(httpPort),
            GRPC_PORT: String(await freePort()),
            IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
            MAX_ENCODED_BYTES_PER_REQUEST: String(16 * 1024 * 1024),
            PUBLISH_MAX_BATCH_BYTES: String(16 * 1024 * 1024),
          },
        },
      ]);
    });
    afterAll(() => system?.stop());

    it('splits and retries: both tenants get only 202s, and every accepted event lands exactly once', async () => {
      const [big, other] = await Promise.all([createTenant(), createTenant()]);
      const bigIds = idsOnOnePartition(big.orgId, BIG_EVENTS);
      const run = await sendTogether(url, big, other, bigIds);
      expect(run.others.map((r) => r.status)).toEqual(Array(60).fill(202));
      expect(run.big.status).toBe(202);
      expect(await metric(opsPort, 'collector_produce_too_large_splits_total')).toBeGreaterThan(0);
      await expectStoredOnce(other.orgId, run.others.flatMap((r) => r.ids));
      await expectStoredOnce(big.orgId, bigIds);
    });
  });
});
