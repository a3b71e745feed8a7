import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { benthosBinary } from './support/benthos';
import { jsonLines, runConnect, type RunningConnect } from './support/connect';
import { storedEvents } from './support/events-store';
import { eventually } from './support/http';
import { collectorUrl } from './support/ports';
import { createTenant, type Tenant } from './support/tenants';
import { groupReached, topicEnds } from './support/topics';

/**
 * collector/connect/webhook-receiver.yaml, run for real by the Benthos binary in front of the
 * running collector: arbitrary JSON webhooks become CloudEvents stored in ClickHouse, a
 * redelivered webhook is stored once, what cannot become an event lands in the dead-letter file,
 * and a collector that will not take the event makes the sender redeliver (502).
 */

let tenant: Tenant;
let receiver: RunningConnect;
let deadLetters: string;
const source = `e2e-webhooks-${randomUUID().slice(0, 8)}`;

async function deliver(body: string, headers: Record<string, string> = {}, to: RunningConnect = receiver): Promise<number> {
  const res = await fetch(`${to.url}/hooks/billing`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(40_000),
  });
  await res.text();
  return res.status;
}

beforeAll(async () => {
  const [binary, created] = await Promise.all([benthosBinary(), createTenant()]);
  tenant = created;
  deadLetters = join(mkdtempSync(join(tmpdir(), 'polaris-webhooks-')), 'dead-letter.jsonl');
  receiver = await runConnect(binary, 'webhook-receiver', {
    POLARIS_COLLECTOR_URL: collectorUrl,
    POLARIS_API_KEY: tenant.apiKey,
    WEBHOOK_PATH: '/hooks/billing',
    WEBHOOK_SOURCE: source,
    // Spelled as GitHub does; Go canonicalizes it to X-Github-Delivery: matched whatever the case.
    WEBHOOK_ID_HEADER: 'X-GitHub-Delivery',
    WEBHOOK_SUBJECT_FIELD: 'customer.id',
    WEBHOOK_TYPE_FIELD: 'event',
    WEBHOOK_TIME_FIELD: 'created',
    DEAD_LETTER_PATH: deadLetters,
  });
}, 600_000);

afterAll(async () => {
  await receiver?.stop();
});

describe('the webhook receiver, in front of the running collector', () => {
  // Written by hand: a number a float cannot hold, which JSON.stringify would round.
  const withId = '{"event":"invoice.paid","customer":{"id":"cus_42"},"created":1700000000,"amount":12345678901234567890,"rate":0.1}';
  const withoutId = JSON.stringify({ customer: { id: 42 }, created: 1_700_000_000_123, seats: 3 });
  const tooFarAhead = JSON.stringify({ event: 'seats.changed', customer: { id: 'cus_7' }, created: '2999-01-01T00:00:00Z' });

  it('answers 200 to every delivery and redelivery of an event it forwarded', async () => {
    for (let attempt = 0; attempt < 3; attempt++) expect(await deliver(withId, { 'X-GitHub-Delivery': 'delivery-1' })).toBe(200);
    for (let attempt = 0; attempt < 2; attempt++) expect(await deliver(withoutId)).toBe(200);
  });

  it('stores each webhook once, as the CloudEvent the mapping makes, the body as its data digit for digit', async () => {
    await eventually(async () => ((await storedEvents(tenant.orgId)).length >= 2 ? true : undefined), 'both webhooks to be stored');
    const ends = await topicEnds(EVENTS_TOPIC);
    await eventually(() => groupReached('polaris-sink', EVENTS_TOPIC, ends), 'the sink to consume every copy');
    const rows = await storedEvents(tenant.orgId);
    const bodyHash = createHash('sha256').update(withoutId).digest('hex');
    expect(rows.map(({ data: _data, ...attributes }) => attributes).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: 'delivery-1', source, type: 'invoice.paid', subject: 'cus_42', time_ms: '1700000000000' },
        { id: bodyHash, source, type: 'webhook', subject: '42', time_ms: '1700000000123' },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    const paid = rows.find((row) => row.id === 'delivery-1');
    expect(paid?.data).toContain('"amount":12345678901234567890');
    expect(paid?.data).toContain('"rate":0.1');
  });

  it('dead-letters what cannot become an event, and what the collector refuses, answering 200', async () => {
    expect(await deliver('not json at all')).toBe(200);
    expect(await deliver(JSON.stringify({ event: 'x', customer: {} }))).toBe(200);
    expect(await deliver(tooFarAhead)).toBe(200);
    const letters = await eventually(async () => {
      const lines = jsonLines(deadLetters);
      return lines.length >= 3 ? lines : undefined;
    }, 'three dead letters');
    expect(letters).toHaveLength(3);
    expect(letters[0]).toMatchObject({ input: 'not json at all', reason: expect.stringContaining('parse as json') });
    expect(letters[1]).toMatchObject({ input: { event: 'x', customer: {} }, reason: expect.stringContaining('no subject at customer.id') });
    // The collector's own answer, naming the attribute: refused for what the event is.
    expect(letters[2]).toMatchObject({ input: { subject: 'cus_7', time: '2999-01-01T00:00:00Z' }, reason: expect.stringMatching(/\(400\).*invalid_event.*time/) });
    expect((await storedEvents(tenant.orgId)).map((row) => row.subject)).not.toContain('cus_7');
  });

  it('answers 502 while the collector will not take the event (here: a revoked or wrong key), so the sender redelivers', async () => {
    const wrongKey = await runConnect(await benthosBinary(), 'webhook-receiver', {
      POLARIS_COLLECTOR_URL: collectorUrl,
      POLARIS_API_KEY: `${tenant.apiKey.slice(0, -4)}xxxx`,
      WEBHOOK_SOURCE: source,
      DEAD_LETTER_PATH: `${deadLetters}.wrong-key`,
    });
    try {
      const res = await fetch(`${wrongKey.url}/webhook`, { method: 'POST', body: JSON.stringify({ subject: 'cus_9' }), signal: AbortSignal.timeout(40_000) });
      expect(res.status).toBe(502);
      expect(await res.text()).not.toContain(collectorUrl);
      expect(jsonLines(`${deadLetters}.wrong-key`)).toEqual([]);
    } finally {
      await wrongKey.stop();
    }
  });
});
