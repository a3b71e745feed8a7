import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BufferFullError, ClientClosedError, InvalidEventError, InvalidOptionError, UndeliveredEventsError } from './errors.js';
import { fakeCollector, refusal, type FakeAnswer, type FakeRequest } from './fake-collector.test-support.js';
import type { PolarisClientOptions } from './options.js';
import { MAX_REQUEST_BYTES, PolarisClient } from './polaris-client.js';
import type { DeliveryProblem } from './types.js';

function setup(options: Partial<PolarisClientOptions> = {}, answer?: (request: FakeRequest, index: number) => FakeAnswer | Promise<FakeAnswer>) {
  const collector = fakeCollector(answer);
  const problems: DeliveryProblem[] = [];
  const client = new PolarisClient({
    url: 'http://collector.test/',
    apiKey: 'pol_test',
    retryBaseDelayMs: 10,
    fetch: collector.fetch,
    onError: (problem) => problems.push(problem),
    ...options,
  });
  return { client, collector, problems, sizes: () => collector.requests.map((r) => r.events.length) };
}

const track = (client: PolarisClient, count: number, subject = 'acme') =>
  Array.from({ length: count }, (_, i) => client.track({ type: 'api.request', subject, data: { i } }));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('batching', () => {
  it('sends a batch as soon as batchSize events wait, and the rest flushIntervalMs after the first of them', async () => {
    const { client, collector, sizes } = setup({ batchSize: 3, flushIntervalMs: 1_000 });
    const ids = track(client, 7);
    await vi.advanceTimersByTimeAsync(0);
    expect(sizes()).toEqual([3, 3]);
    await vi.advanceTimersByTimeAsync(999);
    expect(sizes()).toEqual([3, 3]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sizes()).toEqual([3, 3, 1]);
    expect(collector.requests[0]?.url).toBe('http://collector.test/v1/events');
    expect(collector.ids().flat()).toEqual(ids);
    expect(client.stats()).toEqual({ buffered: 0, sent: 7, retried: 0, dropped: 0, rejected: 0 });
  });

  it('has one request in flight at a time, so events arrive in the order they were tracked', async () => {
    let inFlight = 0;
    let most = 0;
    const { client, collector } = setup({ batchSize: 2 }, async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 50));
      inFlight--;
      return { status: 202 };
    });
    const ids = track(client, 9);
    const flushed = client.flush();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await flushed).toEqual({ sent: 9, rejected: [], undelivered: 0 });
    expect(most).toBe(1);
    expect(collector.ids().flat()).toEqual(ids);
  });

  it('cuts a batch before 1 MB of body, and sends it at once when that much waits', async () => {
    const { client, collector, sizes } = setup({ flushIntervalMs: 60_000 });
    for (let i = 0; i < 20; i++) client.track({ type: 'blob.stored', subject: 'acme', data: { blob: 'x'.repeat(60_000) } });
    await vi.advanceTimersByTimeAsync(0);
    expect(sizes()).toEqual([16]);
    await client.flush();
    expect(sizes()).toEqual([16, 4]);
    for (const request of collector.requests) expect(Buffer.byteLength(request.body)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(Buffer.byteLength(collector.requests[0]?.body ?? '') + 60_200).toBeGreaterThan(MAX_REQUEST_BYTES);
  });

  it('flush() sends what is buffered at once and says what became of it; with nothing buffered it sends nothing', async () => {
    const { client, sizes } = setup({ flushIntervalMs: 60_000 });
    expect(await client.flush()).toEqual({ sent: 0, rejected: [], undelivered: 0 });
    track(client, 5);
    expect(await client.flush()).toEqual({ sent: 5, rejected: [], undelivered: 0 });
    expect(sizes()).toEqual([5]);
  });

  it('close() sends everything, stops the timer, and refuses later events', async () => {
    const { client, sizes } = setup({ flushIntervalMs: 60_000 });
    track(client, 3);
    const closed = client.close();
    expect(client.close()).toBe(closed);
    await closed;
    expect(sizes()).toEqual([3]);
    expect(vi.getTimerCount()).toBe(0);
    expect(() => client.track({ type: 'api.request', subject: 'acme' })).toThrow(ClientClosedError);
  });
});

describe('retries', () => {
  it('waits out a 429 Retry-After and resends the same ids; counts the retried events', async () => {
    const { client, collector } = setup({}, (_r, i) => (i === 0 ? { ...refusal(429, 'rate_limited'), headers: { 'retry-after': '1' } } : { status: 202 }));
    track(client, 2);
    const flushed = client.flush();
    await vi.advanceTimersByTimeAsync(999);
    expect(collector.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20);
    expect(await flushed).toEqual({ sent: 2, rejected: [], undelivered: 0 });
    const [first, second] = collector.ids();
    expect(second).toEqual(first);
    expect(client.stats()).toMatchObject({ sent: 2, retried: 2, buffered: 0 });
  });

  it('keeps events it could not deliver through every retry, reports them, and sends them on the next round', async () => {
    let down = true;
    const { client, problems, collector } = setup({ maxRetries: 1, flushIntervalMs: 1_000 }, () => (down ? 'network error' : { status: 202 }));
    const ids = track(client, 2);
    const flushed = client.flush();
    await vi.advanceTimersByTimeAsync(100);
    expect(await flushed).toEqual({ sent: 0, rejected: [], undelivered: 2 });
    expect(problems).toEqual([{ kind: 'undelivered', events: [expect.objectContaining({ id: ids[0] }), expect.objectContaining({ id: ids[1] })], reason: 'fetch failed (ECONNRESET)' }]);
    expect(client.stats()).toMatchObject({ buffered: 2, sent: 0 });
    down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(client.stats()).toMatchObject({ buffered: 0, sent: 2 });
    expect(collector.ids().at(-1)).toEqual(ids);
  });

  it('close() rejects with UndeliveredEventsError holding the events, ids included, when the collector stays down', async () => {
    const { client } = setup({ maxRetries: 2 }, () => refusal(503, 'broker_unavailable'));
    const ids = track(client, 3);
    const closed = client.close().catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(1_000);
    const err = await closed;
    expect(err).toBeInstanceOf(UndeliveredEventsError);
    expect((err as UndeliveredEventsError).events.map((e) => e.id)).toEqual(ids);
    expect((err as UndeliveredEventsError).message).toContain('503 broker_unavailable');
    // Kept and tracked again later, they are sent with the same ids: the collector stores them once.
    const later = setup();
    for (const event of (err as UndeliveredEventsError).events) later.client.track(event);
    await later.client.close();
    expect(later.collector.ids()).toEqual([ids]);
  });

  it('after a 413 batch_exceeds_rate_limit, later batches are no larger than the halves that passed', async () => {
    const { client, sizes } = setup({ batchSize: 10 }, (request) => (request.events.length > 4 ? refusal(413, 'batch_exceeds_rate_limit', 'body') : { status: 202 }));
    track(client, 20);
    await client.flush();
    expect(client.stats()).toMatchObject({ sent: 20, rejected: 0 });
    expect(sizes()).toEqual([10, 5, 3, 2, 5, 3, 2, 3, 3, 3, 1]);
  });
});

describe('refusals', () => {
  it('an event the collector refuses is reported (onError and the flush result) with its code and field, and dropped; the others are sent', async () => {
    const { client, problems } = setup({}, (_r, i) => (i === 0 ? refusal(400, 'invalid_event', '[1].time', '[1].time: is more than 24 hours in the future') : { status: 202 }));
    const future = new Date(Date.now() + 2 * 86_400_000);
    const [, late] = [client.track({ type: 'a', subject: 's' }), client.track({ type: 'a', subject: 's', time: future }), client.track({ type: 'a', subject: 's' })];
    const result = await client.flush();
    const rejected = { event: expect.objectContaining({ id: late, time: future.toISOString() }), status: 400, code: 'invalid_event', field: 'time', message: 'time: is more than 24 hours in the future' };
    expect(result).toEqual({ sent: 2, rejected: [rejected], undelivered: 0 });
    expect(problems).toEqual([{ kind: 'rejected', rejected: [rejected] }]);
    expect(client.stats()).toEqual({ buffered: 0, sent: 2, retried: 0, dropped: 0, rejected: 1 });
  });

  it('a revoked key rejects the batch once, never retrying it', async () => {
    const { client, collector } = setup({}, () => refusal(401, 'invalid_api_key', undefined, 'the API key is not valid'));
    track(client, 3);
    const result = await client.flush();
    expect(result.rejected.map((r) => r.code)).toEqual(['invalid_api_key', 'invalid_api_key', 'invalid_api_key']);
    expect(collector.requests).toHaveLength(1);
    expect(client.stats()).toMatchObject({ buffered: 0, rejected: 3 });
  });

  it('an onError that throws does not stop delivery', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { client } = setup({ onError: () => { throw new Error('oops'); } }, () => refusal(403, 'missing_scope'));
    track(client, 1);
    expect((await client.flush()).rejected).toHaveLength(1);
    expect(spy).toHaveBeenCalledWith('@polaris/sdk: onError threw', expect.any(Error));
  });
});

describe('the bounded buffer', () => {
  it("onFull 'throw': track throws BufferFullError once maxBufferedEvents wait (in flight included)", () => {
    const { client } = setup({ maxBufferedEvents: 2 });
    track(client, 2);
    expect(() => client.track({ type: 'api.request', subject: 'acme' })).toThrow(BufferFullError);
    expect(client.stats()).toMatchObject({ buffered: 2, dropped: 0 });
  });

  it("onFull 'drop': the event is dropped and counted, track returns undefined", async () => {
    const { client, collector } = setup({ maxBufferedEvents: 2, onFull: 'drop' });
    const ids = track(client, 3);
    expect(ids[2]).toBeUndefined();
    expect(client.stats()).toMatchObject({ buffered: 2, dropped: 1 });
    await client.flush();
    expect(collector.ids().flat()).toEqual(ids.slice(0, 2));
    expect(client.track({ type: 'api.request', subject: 'acme' })).toEqual(expect.any(String));
  });

  it('an invalid event is thrown at track, naming the field, and never buffered', () => {
    const { client } = setup();
    expect(() => client.track({ type: 'api.request', subject: '' })).toThrow(new InvalidEventError('subject', 'must be a non-empty string, got ""'));
    expect(client.stats().buffered).toBe(0);
  });
});

describe('options', () => {
  it.each([
    [{ url: 'collector:8081' }, 'url'],
    [{ url: 'ftp://collector.test' }, 'url'],
    [{ apiKey: '' }, 'apiKey'],
    [{ batchSize: 0 }, 'batchSize'],
    [{ batchSize: 1001 }, 'batchSize'],
    [{ flushIntervalMs: 1.5 }, 'flushIntervalMs'],
    [{ maxRetries: -1 }, 'maxRetries'],
    [{ onFull: 'block' }, 'onFull'],
    [{ fetch: 'fetch' }, 'fetch'],
  ])('refuses %j naming %s', (bad, field) => {
    const make = () => new PolarisClient({ url: 'http://collector.test', apiKey: 'k', ...(bad as Partial<PolarisClientOptions>) });
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(expect.objectContaining({ field }));
  });

  it('takes the endpoint itself as url too', async () => {
    const { client, collector } = setup({ url: 'https://example.test/polaris/v1/events' });
    track(client, 1);
    await client.flush();
    expect(collector.requests[0]?.url).toBe('https://example.test/polaris/v1/events');
  });
});

describe('types', () => {
  it('checks events against a catalog of event types at compile time', async () => {
    interface Catalog {
      'llm.tokens': { model: string; tokens: number | bigint };
    }
    const collector = fakeCollector();
    const client = new PolarisClient<Catalog>({ url: 'http://collector.test', apiKey: 'k', fetch: collector.fetch });
    client.track({ type: 'llm.tokens', subject: 'acme', data: { model: 'large', tokens: 12n } });
    // @ts-expect-error: not an event type of the catalog
    expect(() => client.track({ type: 'llm.token', subject: 'acme' })).not.toThrow();
    // @ts-expect-error: tokens must be a number or bigint
    client.track({ type: 'llm.tokens', subject: 'acme', data: { model: 'large', tokens: '12' } });
    await client.close();
    expect(collector.requests[0]?.events).toHaveLength(3);
  });
});
