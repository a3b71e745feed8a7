import { describe, expect, it } from 'vitest';
import { createTenant } from './support/tenants';
import { cloudEvent, graphql, postEvents } from './support/http';
import { tenantWithMeters } from './support/meters';

describe('bad input gets a clear error, never a 500', () => {
  it('names the offending field of a single event', async () => {
    const { apiKey } = await createTenant();
    const res = await postEvents(apiKey, cloudEvent({ time: 'yesterday' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_event', field: 'time' });
  });

  it('names the event and field inside a batch, and accepts none of it', async () => {
    const { apiKey } = await createTenant();
    const res = await postEvents(apiKey, [cloudEvent(), cloudEvent({ subject: '' })], 'application/cloudevents-batch+json');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_event', field: '[1].subject' });
  });

  it.each([
    ['truncated JSON', '{"specversion": "1.0",', 'application/cloudevents+json', 400, 'invalid_json'],
    ['plain text', 'hello', 'text/plain', 415, 'unsupported_media_type'],
    ['an empty batch', '[]', 'application/cloudevents-batch+json', 400, 'empty_batch'],
    ['a 2 MiB body', JSON.stringify(cloudEvent({ data: { blob: 'x'.repeat(2 * 1024 * 1024) } })), 'application/cloudevents+json', 413, 'body_too_large'],
  ])('%s', async (_label, body, type, status, code) => {
    const { apiKey } = await createTenant();
    const res = await postEvents(apiKey, body, type);
    expect(res.status).toBe(status);
    expect((res.body.error as { code: string }).code).toBe(code);
  });

  it('rejects a bad usage query with the field named', async () => {
    const { apiKey } = await tenantWithMeters([{ slug: 'api_calls', name: 'API calls', eventType: 'api.request', aggregation: 'COUNT' }]);
    const usage = (args: string) => graphql(apiKey, `{ usage(metric: "api_calls", ${args}) { total rows { value } } }`);
    const cases = [
      ['from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z"', 'invalid_range', 'to'],
      ['from: "2026-01-01T00:00:30Z", to: "2026-01-02T00:00:00Z"', 'unaligned_range', 'from'],
      ['from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", windowTimeZone: "Mars/Olympus_Mons"', 'unknown_time_zone', 'windowTimeZone'],
      ['from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", groupBy: ["model"]', 'unknown_dimension', 'groupBy[0]'],
    ] as const;
    for (const [args, code, field] of cases) {
      const res = await usage(args);
      expect(res.status, args).toBe(400);
      expect(res.errors?.[0]?.extensions, args).toMatchObject({ code: 'BAD_USER_INPUT', reason: code, field });
    }
    // A window size the API does not have is refused by the schema itself, naming the argument.
    const week = await usage('from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", windowSize: WEEK');
    expect(week.status).toBe(400);
    expect(week.errors?.[0]?.message).toMatch(/WindowSize.*WEEK|WEEK.*WindowSize/);
    // A meter the organization does not have: not found, naming the metric asked for.
    const unknown = await graphql(apiKey, '{ usage(metric: "no_such_meter", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { total } }');
    expect(unknown.status).toBe(404);
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'meter_not_found', field: 'metric' });
    expect(unknown.errors?.[0]?.message).toContain('no_such_meter');
  });
});
