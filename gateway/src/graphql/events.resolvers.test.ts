import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { MeterAggregation } from '@polaris/proto';
import { fakeSystem, ORG, Refusal } from '../test-support/fake-backends';

/** The meters of the fake organization, as the Meters service answers them. */
const METERS: Record<string, { aggregation: MeterAggregation; eventType: string; valuePath: string }> = {
  api_calls: { aggregation: MeterAggregation.METER_AGGREGATION_COUNT, eventType: 'api.request', valuePath: '' },
  tokens: { aggregation: MeterAggregation.METER_AGGREGATION_SUM, eventType: 'llm.tokens', valuePath: '$.tokens' },
};

function recorder() {
  return fakeSystem(['events:write'], {
    'meters.getMeter': (req) => {
      const meter = METERS[String(req.slug)];
      if (!meter || req.organizationId !== ORG) throw new Refusal(status.NOT_FOUND, 'meter_not_found', `no meter "${String(req.slug)}" in this organization`, 'slug');
      const { aggregation, eventType, valuePath } = meter;
      return { id: '1', organizationId: ORG, slug: req.slug, status: 'active', currentVersion: { version: 1, definition: { eventType, aggregation, valuePath, uniquePath: '', dimensions: [] } } };
    },
    'ingest.publish': (req) => {
      const events = req.events as Array<{ time?: Date }>;
      if (events.some((e) => e.time && e.time.getTime() < Date.parse('2000-01-01T00:00:00Z'))) {
        throw new Refusal(status.INVALID_ARGUMENT, 'invalid_event', 'events[0].time: is older than the collector takes', 'events[0].time');
      }
      return { accepted: events.length };
    },
  });
}

describe('recordUsage(metric, quantity): the seeds\' mutation', () => {
  it('verbatim, on a COUNT meter: true, and ten events of its type for the subject "default"', async () => {
    const { post, requests } = recorder();
    const res = await post('mutation { recordUsage(metric: "api_calls", quantity: 10) }');
    expect(res.body).toEqual({ data: { recordUsage: true } });
    const [published] = requests.get('ingest.publish') ?? [];
    const events = published?.events as Array<{ id: string; source: string; type: string; subject: string; data: unknown }>;
    expect(published?.organizationId).toBe(ORG);
    expect(events).toHaveLength(10);
    expect(new Set(events.map((e) => `${e.source} ${e.type} ${e.subject}`))).toEqual(new Set(['graphql api.request default']));
    expect(new Set(events.map((e) => e.id)).size).toBe(10);
  });

  it('a SUM meter: one event with the exact quantity at its value path, idempotent by the id given', async () => {
    const { post, requests } = recorder();
    const res = await post('mutation { recordUsage(metric: "tokens", quantity: 1234.5678, subject: "customer-42", id: "req-7", data: { model: "large" }) }');
    expect(res.body.errors).toBeUndefined();
    const [published] = requests.get('ingest.publish') ?? [];
    expect(published?.events).toMatchObject([{ id: 'req-7', source: 'graphql', type: 'llm.tokens', subject: 'customer-42', data: { model: 'large', tokens: '1234.5678' } }]);
  });

  it('an unknown metric is BAD_USER_INPUT naming metric, and nothing is published', async () => {
    const { post, calls } = recorder();
    const res = await post('mutation { recordUsage(metric: "no_such_meter", quantity: 1) }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'meter_not_found', field: 'metric' });
    expect(calls.get('ingest.publish')).toBeUndefined();
  });

  it('a quantity a COUNT meter cannot be, and one that is no decimal: BAD_USER_INPUT', async () => {
    const { post } = recorder();
    const half = await post('mutation { recordUsage(metric: "api_calls", quantity: 2.5) }');
    expect(half.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'invalid_quantity', field: 'quantity' });
    const exponent = await post('mutation { recordUsage(metric: "tokens", quantity: 1e3) }');
    expect(exponent.status).toBe(400);
    expect(exponent.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'invalid_decimal' });
  });

  it("Ingest's refusal names the argument sent, not the event", async () => {
    const { post } = recorder();
    const res = await post('mutation { recordUsage(metric: "tokens", quantity: 1, time: "1999-01-01T00:00:00Z") }');
    expect(res.body.errors?.[0]).toMatchObject({ message: 'time: is older than the collector takes', extensions: { code: 'BAD_USER_INPUT', reason: 'invalid_event', field: 'time' } });
  });
});

describe('recordEvent(input): one raw event', () => {
  it('publishes it as given and answers how many were accepted; a refusal names input.<attribute>', async () => {
    const { post } = recorder();
    const ok = await post('mutation { recordEvent(input: { id: "e1", type: "api.request", subject: "c" }) { accepted } }');
    expect(ok.body).toEqual({ data: { recordEvent: { accepted: 1 } } });
    const old = await post('mutation { recordEvent(input: { id: "e2", type: "api.request", subject: "c", time: "1999-01-01T00:00:00Z" }) { accepted } }');
    expect(old.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'invalid_event', field: 'input.time' });
  });
});
