import { describe, expect, it } from 'vitest';
import { createTenant } from './support/tenants';
import { cloudEvent, graphql, postEvents } from './support/http';

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
    const { apiKey } = await createTenant();
    const res = await graphql(apiKey, '{ usage(eventType: "x", from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z") { rows { value } } }');
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'invalid_range', field: 'to' });
    const sum = await graphql(apiKey, '{ usage(eventType: "x", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", aggregation: SUM, valueProperty: "a b") { rows { value } } }');
    expect(sum.errors?.[0]?.extensions).toMatchObject({ code: 'invalid_value_property', field: 'value_property' });
  });
});
