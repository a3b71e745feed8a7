import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolarisClient, type FetchLike, type PolarisClientOptions } from '@polaris/sdk';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { storedEvents } from './support/events-store';
import { eventually } from './support/http';
import { collectorUrl, E2E_PORTS } from './support/ports';
import { repoRoot } from './support/private-services';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';
import { createTenant, type Tenant } from './support/tenants';
import { groupReached, topicEnds } from './support/topics';

/**
 * @polaris/sdk (README, "TypeScript client") against the running collector → broker → sink →
 * ClickHouse: the events a client tracks are stored exactly once, under the ids it gave them,
 * through a lost answer (a TCP proxy closes the first connection once the collector has accepted
 * the batch, so the client sends it again), a 413 split and 429s (a per-organization limit of 5
 * events per second, set with `polaris org limits`), and beside an event the collector refuses for
 * good (reported, never retried; the rest of its batch stored).
 */

const cli = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', join(repoRoot, 'cli', 'src', 'main.ts'), ...args], { cwd: repoRoot });

/** The real fetch, noting each answer's status (or the network error) on the way. */
function observedFetch(answers: Array<number | 'network error'>): FetchLike {
  return async (url, init) => {
    try {
      const response = await fetch(url, init);
      answers.push(response.status);
      return response;
    } catch (err) {
      answers.push('network error');
      throw err;
    }
  };
}

function clientFor(tenant: Tenant, url: string, answers: Array<number | 'network error'>, options: Partial<PolarisClientOptions> = {}) {
  return new PolarisClient({ url, apiKey: tenant.apiKey, source: 'e2e-sdk', retryBaseDelayMs: 50, fetch: observedFetch(answers), onError: () => undefined, ...options });
}

function trackUsage(client: PolarisClient, count: number, label: string): string[] {
  return Array.from({ length: count }, (_, i) => {
    const id = client.track({ type: 'llm.tokens', subject: `customer-${i % 3}`, data: { label, model: 'large', tokens: 100 + i } });
    if (!id) throw new Error('an event was dropped');
    return id;
  });
}

/** Waits until the sink has consumed every copy in the broker, then returns the org's stored ids (no FINAL: a duplicate would show). */
async function storedIdsOnceSettled(tenant: Tenant, expected: number): Promise<string[]> {
  await eventually(async () => ((await storedEvents(tenant.orgId)).length >= expected ? true : undefined), `${expected} events to be stored`, 60_000);
  const ends = await topicEnds(EVENTS_TOPIC);
  await eventually(() => groupReached('polaris-sink', EVENTS_TOPIC, ends), 'the sink to consume every copy', 60_000);
  return (await storedEvents(tenant.orgId)).map((row) => row.id);
}

const sorted = (ids: readonly string[]) => [...ids].sort();

let proxy: TcpProxy;

beforeAll(async () => {
  proxy = await startTcpProxy({ host: '127.0.0.1', port: E2E_PORTS.collector });
});

afterAll(async () => {
  await proxy?.close();
});

describe('@polaris/sdk against the running system', () => {
  it('a lost answer: the client sends the batch again with the same ids, and every event is stored once', async () => {
    const tenant = await createTenant();
    const drops = proxy.dropAnswersTo(/POST \/v1\/events/, 1);
    const answers: Array<number | 'network error'> = [];
    const client = clientFor(tenant, `http://127.0.0.1:${proxy.port}`, answers, { batchSize: 50 });
    const ids = trackUsage(client, 120, 'lost-answer');
    await client.close();

    // The collector accepted the first batch; the client never heard so, and sent it again.
    expect(drops.dropped()).toEqual(['HTTP/1.1 202 Accepted']);
    expect(answers).toEqual(['network error', 202, 202, 202]);
    expect(client.stats()).toEqual({ buffered: 0, sent: 120, retried: 50, dropped: 0, rejected: 0 });
    const stored = await storedIdsOnceSettled(tenant, ids.length);
    expect(stored).toHaveLength(120);
    expect(sorted(stored)).toEqual(sorted(ids));
  });

  it('a limit of 5 events per second: a batch of 10 is split (413), 429s are waited out, and every event is stored once', async () => {
    const tenant = await createTenant();
    // Set before the organization's first request: the collector learns it with the key.
    await cli('org', 'limits', tenant.orgId, '--events-per-second', '5', '--burst', '5');
    const answers: Array<number | 'network error'> = [];
    const client = clientFor(tenant, collectorUrl, answers, { batchSize: 10 });
    const ids = trackUsage(client, 23, 'rate-limited');
    await client.close();

    expect(answers[0]).toBe(413);
    expect(answers).toContain(429);
    expect(answers.filter((a) => a === 202).length).toBeGreaterThanOrEqual(5);
    expect(client.stats()).toMatchObject({ buffered: 0, sent: 23, dropped: 0, rejected: 0 });
    expect(client.stats().retried).toBeGreaterThanOrEqual(1);
    const stored = await storedIdsOnceSettled(tenant, ids.length);
    expect(stored).toHaveLength(23);
    expect(sorted(stored)).toEqual(sorted(ids));
  }, 90_000);

  it('an event the collector refuses is reported with its code and field, not retried; the rest of its batch is stored once', async () => {
    const tenant = await createTenant();
    const answers: Array<number | 'network error'> = [];
    const client = clientFor(tenant, collectorUrl, answers);
    const [first, second] = trackUsage(client, 2, 'refused');
    const future = new Date(Date.now() + 3 * 86_400_000);
    const refusedId = client.track({ type: 'llm.tokens', subject: 'customer-0', time: future, data: { tokens: 1 } });
    const [last] = trackUsage(client, 1, 'refused');
    const result = await client.flush();
    await client.close();

    expect(result).toEqual({
      sent: 3,
      undelivered: 0,
      rejected: [
        {
          event: expect.objectContaining({ id: refusedId, time: future.toISOString() }),
          status: 400,
          code: 'invalid_event',
          field: 'time',
          message: 'time: is more than 24 hours in the future',
        },
      ],
    });
    expect(answers).toEqual([400, 202]);
    const stored = await storedIdsOnceSettled(tenant, 3);
    expect(sorted(stored)).toEqual(sorted([first, second, last] as string[]));
  });
});
