import { describe, expect, it } from 'vitest';
import { deliverBatch, type DeliverySettings } from './batch-delivery.js';
import { fakeCollector, refusal, type FakeAnswer } from './fake-collector.test-support.js';
import { prepareEvent, type PreparedEvent } from './prepare-event.js';

function events(count: number): PreparedEvent[] {
  return Array.from({ length: count }, (_, seq) =>
    prepareEvent({ type: 'api.request', subject: `customer-${seq}`, data: { n: seq } }, { source: 'test', now: new Date('2026-03-01T10:00:00Z'), seq }),
  );
}

/** Runs deliverBatch against scripted answers (a function of the request index), recording every wait. */
async function deliver(batch: PreparedEvent[], answers: (index: number, size: number) => FakeAnswer, maxRetries = 3) {
  const collector = fakeCollector((request, index) => answers(index, request.events.length));
  const sleeps: number[] = [];
  const settings: DeliverySettings = {
    endpoint: 'http://collector.test/v1/events',
    apiKey: 'pol_test',
    requestTimeoutMs: 1_000,
    fetch: collector.fetch,
    maxRetries,
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 1_000,
  };
  const clock = { sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5, now: () => Date.parse('2026-03-01T10:00:00Z') };
  const outcome = await deliverBatch(batch, settings, clock);
  return { outcome, sleeps, requests: collector.requests, ids: collector.ids() };
}

const idsOf = (list: PreparedEvent[]) => list.map((p) => p.event.id);

describe('deliverBatch', () => {
  it('sends the batch as one batched-mode request with the key as Bearer', async () => {
    const batch = events(3);
    const { outcome, requests } = await deliver(batch, () => ({ status: 202 }));
    expect(outcome).toMatchObject({ sent: batch, rejected: [], undelivered: [], retried: 0 });
    expect(requests).toHaveLength(1);
    expect(requests[0]?.headers).toEqual({ 'content-type': 'application/cloudevents-batch+json', authorization: 'Bearer pol_test' });
    expect(requests[0]?.events.map((e) => e.id)).toEqual(idsOf(batch));
  });

  it('retries a 429 after its Retry-After (plus jitter), a 503 and a network error with backoff, resending the same ids', async () => {
    const batch = events(2);
    const script: FakeAnswer[] = [
      { ...refusal(429, 'rate_limited'), headers: { 'Retry-After': '2' } },
      refusal(503, 'broker_unavailable'),
      'network error',
      { status: 202 },
    ];
    const { outcome, sleeps, ids } = await deliver(batch, (i) => script[i] ?? { status: 202 });
    expect(outcome).toMatchObject({ sent: batch, undelivered: [], retried: 6 });
    // 2 s + half the base; then half of 100 × 2^1 and 100 × 2^2 (random() is 0.5).
    expect(sleeps).toEqual([2_050, 100, 200]);
    expect(ids).toEqual([idsOf(batch), idsOf(batch), idsOf(batch), idsOf(batch)]);
  });

  it('retries a 408 and a 500 too, and reads an HTTP-date Retry-After', async () => {
    const script: FakeAnswer[] = [refusal(408, 'request_timeout'), { ...refusal(500, 'internal'), headers: { 'retry-after': 'Sun, 01 Mar 2026 10:00:03 GMT' } }];
    const { outcome, sleeps } = await deliver(events(1), (i) => script[i] ?? { status: 202 });
    expect(outcome.sent).toHaveLength(1);
    expect(sleeps).toEqual([50, 3_050]);
  });

  it('gives up after maxRetries: the events are undelivered (they stay buffered), with the last reason', async () => {
    const batch = events(2);
    const { outcome, requests } = await deliver(batch, () => refusal(503, 'broker_unavailable', undefined, 'the broker did not answer'), 2);
    expect(requests).toHaveLength(3);
    expect(outcome).toMatchObject({ sent: [], rejected: [], undelivered: batch, retried: 4, reason: '503 broker_unavailable: the broker did not answer' });
    const unreachable = await deliver(batch, () => 'network error', 0);
    expect(unreachable.outcome).toMatchObject({ undelivered: batch, reason: 'fetch failed (ECONNRESET)' });
  });

  it('does not retry a 4xx: 401 rejects every event of the batch with the code, once', async () => {
    const batch = events(3);
    const { outcome, requests } = await deliver(batch, () => refusal(401, 'invalid_api_key', undefined, 'the API key is not valid'));
    expect(requests).toHaveLength(1);
    expect(outcome.sent).toEqual([]);
    expect(outcome.rejected.map((r) => r.rejection)).toEqual(
      batch.map((p) => ({ event: p.event, status: 401, code: 'invalid_api_key', message: 'the API key is not valid' })),
    );
  });

  it('a 400 naming one event rejects that event alone (field relative to it) and sends the others again', async () => {
    const batch = events(4);
    const { outcome, ids } = await deliver(batch, (i) =>
      i === 0 ? refusal(400, 'invalid_event', '[2].time', '[2].time: is more than 35 days in the past; events older than that are not accepted') : { status: 202 },
    );
    expect(outcome.rejected.map((r) => r.rejection)).toEqual([
      { event: batch[2]?.event, status: 400, code: 'invalid_event', field: 'time', message: 'time: is more than 35 days in the past; events older than that are not accepted' },
    ]);
    expect(outcome.sent).toEqual([batch[0], batch[1], batch[3]]);
    expect(ids[1]).toEqual(idsOf([batch[0], batch[1], batch[3]] as PreparedEvent[]));
    expect(outcome.retried).toBe(0);
  });

  it('a 413 batch_exceeds_rate_limit splits the batch in halves until they pass, and asks for smaller batches', async () => {
    const batch = events(10);
    // The organization admits at most 3 events per request.
    const { outcome, requests } = await deliver(batch, (_i, size) => (size > 3 ? refusal(413, 'batch_exceeds_rate_limit', 'body') : { status: 202 }));
    expect(requests.map((r) => r.events.length)).toEqual([10, 5, 3, 2, 5, 3, 2]);
    expect(idsOf(outcome.sent)).toEqual(idsOf(batch));
    expect(outcome.smallerBatch).toBe(3);
    expect(outcome.rejected).toEqual([]);
  });

  it('a 413 for one event alone rejects it (retrying cannot help)', async () => {
    const batch = events(1);
    const { outcome } = await deliver(batch, () => refusal(413, 'event_too_large', undefined, 'one event alone exceeds what one produce request may carry'));
    expect(outcome.rejected.map((r) => r.rejection.code)).toEqual(['event_too_large']);
    expect(outcome.sent).toEqual([]);
  });

  it('a proxy answering HTML is reported with http_<status>', async () => {
    const html = async () => ({ status: 404, headers: { get: () => null }, text: async () => '<html>Not Found</html>' });
    const settings = { endpoint: 'http://x.test/v1/events', apiKey: 'k', requestTimeoutMs: 1000, fetch: html, maxRetries: 1, retryBaseDelayMs: 1, retryMaxDelayMs: 1 };
    const { rejected } = await deliverBatch(events(1), settings, { sleep: async () => undefined, random: Math.random, now: Date.now });
    expect(rejected[0]?.rejection).toMatchObject({ status: 404, code: 'http_404', message: '<html>Not Found</html>' });
  });
});
