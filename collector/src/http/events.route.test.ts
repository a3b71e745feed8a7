import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { CloudEvent, HTTP } from 'cloudevents';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import type { IdentityClient, ValidateApiKeyResponse } from '@polaris/proto';
import { ApiKeyAuthenticator } from '@polaris/shared/auth';
import type { NormalizedEvent } from '@polaris/shared/contracts';
import { createLogger } from '@polaris/shared/service';
import { createHttpServer } from './http-server';
import { registerEventsRoute } from './events.route';
import { EventRateLimitExceeded, type EventRateLimit } from '../rate-limit/event-rate-limiter';

// POST /v1/events in-process (Fastify inject), with the broker and Redis left out: what this
// checks is how each kind of request is read and answered. The real pipeline is e2e/.

const ORG = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const KEY = 'pol_abcd1234_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef';
const LIMITED_KEY = 'pol_limited1_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef';
const DAY = 86_400_000;

/** Identity that knows two keys; the second one's org has its own event rate limit. */
const identity = {
  validateApiKey: (req: { apiKey: string }, _md: Metadata, _opts: unknown, callback: (err: ServiceError | null, res?: ValidateApiKeyResponse) => void) => {
    const known = req.apiKey === KEY || req.apiKey === LIMITED_KEY;
    if (!known) {
      const err = Object.assign(new Error('unknown'), { code: 16, details: 'API key is invalid or revoked', metadata: { get: (k: string) => (k === 'polaris-error-code' ? ['invalid_api_key'] : []) } });
      setImmediate(() => callback(err as unknown as ServiceError));
      return {};
    }
    const res: ValidateApiKeyResponse = {
      organization: { id: ORG, slug: 'acme', name: 'Acme', createdAt: new Date(0) },
      keyId: 'k',
      keyPrefix: req.apiKey.slice(0, 12),
      scopes: ['events:write'],
      ...(req.apiKey === LIMITED_KEY ? { eventRateLimit: { eventsPerSecond: 10, burst: 20 } } : {}),
    };
    setImmediate(() => callback(null, res));
    return {};
  },
} as unknown as InstanceType<typeof IdentityClient>;

const published: NormalizedEvent[][] = [];
const consumed: Array<{ events: number; own: EventRateLimit | undefined }> = [];
let app: FastifyInstance;

beforeAll(async () => {
  app = createHttpServer({ logger: createLogger('test', 'silent'), maxBodyBytes: 1024 * 1024, observe: () => undefined, requestTimeoutMs: 30_000, headersTimeoutMs: 10_000 });
  registerEventsRoute(app, {
    auth: new ApiKeyAuthenticator(identity, 30_000),
    publisher: { publish: async (_org, events) => void published.push(events) },
    rateLimiter: {
      // Refuses more than 20 events at once for the limited org, as a real limit of 20 would.
      consume: async (_org, events, own) => {
        consumed.push({ events, own });
        if (own && events > own.burst) {
          throw new EventRateLimitExceeded('over', { 'ratelimit-limit': '20', 'ratelimit-remaining': '3', 'ratelimit-reset': '1', 'retry-after': '1' });
        }
        return { 'ratelimit-limit': '5000', 'ratelimit-remaining': String(5000 - events), 'ratelimit-reset': '1' };
      },
      refund: async () => undefined,
    },
    maxEventsPerRequest: 1_000,
    timeWindow: { maxAgeMs: 35 * DAY, maxFutureMs: DAY },
  });
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

async function post(headers: Record<string, string>, body: string | undefined) {
  const res = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'x-api-key': KEY, ...headers }, ...(body !== undefined ? { payload: body } : {}) });
  return { status: res.statusCode, headers: res.headers, body: res.json() as { accepted?: number; error?: { code: string; field?: string; message: string } } };
}

/** The SDK's Message headers are string-valued; inject takes them as they are. */
const sdkHeaders = (message: { headers: Record<string, unknown> }) => Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, String(v)]));

const sdkEvent = (extra: Record<string, unknown> = {}) =>
  new CloudEvent({ type: 'api.request', source: '/checkout', subject: 'customer-7', data: { tokens: 12, model: 'large' }, ...extra });

describe('the official cloudevents SDK, unchanged', () => {
  it('HTTP.binary: attributes from ce-* headers, the body as data, application/json; charset=utf-8', async () => {
    const event = sdkEvent({ time: new Date(Date.now() - DAY).toISOString(), region: 'eu' });
    const message = HTTP.binary(event);
    expect(message.headers['content-type']).toBe('application/json; charset=utf-8');
    const res = await post(sdkHeaders(message), message.body as string);
    expect(res).toMatchObject({ status: 202, body: { accepted: 1 } });
    expect(published.at(-1)).toEqual([
      { id: event.id, source: '/checkout', type: 'api.request', subject: 'customer-7', timeMs: Date.parse(event.time as string), data: { tokens: 12, model: 'large' } },
    ]);
  });

  it('HTTP.structured: application/cloudevents+json; charset=utf-8', async () => {
    const event = sdkEvent();
    const message = HTTP.structured(event);
    expect(message.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect((await post(sdkHeaders(message), message.body as string)).status).toBe(202);
    expect(published.at(-1)?.[0]).toMatchObject({ id: event.id, subject: 'customer-7', data: { tokens: 12, model: 'large' } });
  });

  it('binary mode with a vendor JSON type: the type is the datacontenttype, the body the data', async () => {
    const message = HTTP.binary(sdkEvent({ datacontenttype: 'application/vnd.acme.usage+json' }));
    expect(message.headers['content-type']).toBe('application/vnd.acme.usage+json');
    expect((await post(sdkHeaders(message), message.body as string)).status).toBe(202);
    expect(published.at(-1)?.[0]?.data).toEqual({ tokens: 12, model: 'large' });
  });

  it('a binary-mode event without data is stored with empty data', async () => {
    const event = new CloudEvent({ type: 'api.request', source: '/checkout', subject: 'c' });
    const message = HTTP.binary(event);
    expect((await post(sdkHeaders(message), undefined)).status).toBe(202);
    expect(published.at(-1)?.[0]?.data).toEqual({});
  });
});

describe('binary-mode refusals name the header', () => {
  const base = () => sdkHeaders(HTTP.binary(sdkEvent()));

  it.each([
    [(h: Record<string, string>) => delete h['ce-type'], 'missing_ce_header', 'ce-type'],
    [(h: Record<string, string>) => delete h['ce-subject'], 'missing_ce_header', 'ce-subject'],
    [(h: Record<string, string>) => void (h['ce-specversion'] = '0.3'), 'invalid_event', 'ce-specversion'],
    [(h: Record<string, string>) => void (h['ce-type'] = 'has space'), 'invalid_event', 'ce-type'],
    [(h: Record<string, string>) => void (h['ce-time'] = 'yesterday'), 'invalid_event', 'ce-time'],
    [(h: Record<string, string>) => void (h['ce-time'] = new Date(Date.now() - 40 * DAY).toISOString()), 'invalid_event', 'ce-time'],
    [(h: Record<string, string>) => void (h['ce-datacontenttype'] = 'text/plain'), 'contradictory_ce_header', 'ce-datacontenttype'],
    [(h: Record<string, string>) => void (h['content-type'] = 'application/json; charset=utf-16'), 'unsupported_charset', 'content-type'],
  ])('%#: %s naming %s', async (change, code, field) => {
    const headers = base();
    change(headers);
    const res = await post(headers, JSON.stringify({ tokens: 1 }));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.error).toMatchObject({ code, field });
    expect(res.body.error?.message.startsWith(`${field}:`) || code === 'unsupported_charset').toBe(true);
  });

  it('data that is not a JSON object: 400 naming data', async () => {
    const res = await post(base(), '[1,2]');
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'invalid_event', field: 'data' } } });
  });

  it('a structured body with a ce-id that contradicts it: 400 naming ce-id', async () => {
    const message = HTTP.structured(sdkEvent());
    const res = await post({ ...sdkHeaders(message), 'ce-id': 'another' }, message.body as string);
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'contradictory_ce_header', field: 'ce-id' } } });
  });
});

describe('the backdating and future limits', () => {
  const at = (ms: number) => ({ specversion: '1.0', id: `t-${ms}`, source: 's', type: 't', subject: 'c', time: new Date(ms).toISOString() });

  it('accepts an event 34 days old, refuses one 36 days old naming its index and time', async () => {
    const json = { 'content-type': 'application/cloudevents-batch+json' };
    expect((await post(json, JSON.stringify([at(Date.now() - 34 * DAY)]))).status).toBe(202);
    const res = await post(json, JSON.stringify([at(Date.now()), at(Date.now() - 36 * DAY)]));
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'invalid_event', field: '[1].time' } } });
    expect(res.body.error?.message).toBe('[1].time: is more than 35 days in the past; events older than that are not accepted');
    const ahead = await post(json, JSON.stringify([at(Date.now() + 2 * DAY)]));
    expect(ahead.body.error).toMatchObject({ field: '[0].time', message: '[0].time: is more than 24 hours in the future' });
  });
});

describe('API keys: Authorization: Bearer or X-API-Key', () => {
  const event = JSON.stringify({ specversion: '1.0', id: 'k-1', source: 's', type: 't', subject: 'c' });
  const structured = { 'content-type': 'application/cloudevents+json' };

  it('takes either header, or both with the same key', async () => {
    expect((await post({ ...structured }, event)).status).toBe(202);
    expect((await post({ ...structured, 'x-api-key': '', authorization: `Bearer ${KEY}` }, event)).status).toBe(202);
    expect((await post({ ...structured, authorization: `Bearer ${KEY}` }, event)).status).toBe(202);
  });

  it('answers both with different keys 401 conflicting_api_keys, no key 401 missing_api_key naming both headers, a bad one invalid_api_key', async () => {
    const conflicting = await post({ ...structured, authorization: `Bearer ${LIMITED_KEY}` }, event);
    expect(conflicting).toMatchObject({ status: 401, body: { error: { code: 'conflicting_api_keys' } } });
    const missing = await post({ ...structured, 'x-api-key': '' }, event);
    expect(missing).toMatchObject({ status: 401, body: { error: { code: 'missing_api_key' } } });
    expect(missing.body.error?.message).toMatch(/Authorization: Bearer <key>.*X-API-Key: <key>/);
    expect((await post({ ...structured, 'x-api-key': 'pol_nope' }, event)).body.error?.code).toBe('invalid_api_key');
  });
});

describe('rate limits', () => {
  const batch = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ specversion: '1.0', id: `r-${i}`, source: 's', type: 't', subject: 'c' })));
  const json = { 'content-type': 'application/json' };

  it("counts events, not requests, with the key's own limit, and sends the RateLimit headers with a 202", async () => {
    const res = await post({ ...json }, batch(7));
    expect(res.status).toBe(202);
    expect(consumed.at(-1)).toEqual({ events: 7, own: undefined });
    expect(res.headers).toMatchObject({ 'ratelimit-limit': '5000', 'ratelimit-remaining': '4993', 'ratelimit-reset': '1' });
    await post({ ...json, 'x-api-key': LIMITED_KEY }, batch(3));
    expect(consumed.at(-1)).toEqual({ events: 3, own: { eventsPerSecond: 10, burst: 20 } });
  });

  it('answers 429 rate_limited with Retry-After and the RateLimit headers, publishing nothing', async () => {
    const before = published.length;
    const res = await post({ ...json, 'x-api-key': LIMITED_KEY }, batch(21));
    expect(res).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(res.headers).toMatchObject({ 'retry-after': '1', 'ratelimit-limit': '20', 'ratelimit-remaining': '3', 'ratelimit-reset': '1' });
    expect(published.length).toBe(before);
  });
});
