import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { fakeSystem, ORG, Refusal } from '../test-support/fake-backends';

const FROM = new Date('2026-03-03T12:00:00Z');
const TO = new Date('2026-03-10T12:00:00Z');

const stored = {
  id: 'e1',
  source: 'svc',
  type: 'llm',
  subject: 'cust-1',
  time: new Date('2026-03-10T11:59:00.123Z'),
  ingestedAt: new Date('2026-03-10T11:59:01Z'),
  data: '{"tokens":12345678901234567.891,"model":"gpt-4o"}',
  meterValues: [{ meterSlug: 'tokens', meterVersionId: '11', value: '12345678901234567.891', uniqueKey: '', dimensions: { model: 'gpt-4o' } }],
  invalidValues: [{ meterSlug: 'latency', meterVersionId: '12', reason: 'value_path $.ms is missing' }],
};

function events(scopes = ['usage:read']) {
  return fakeSystem(scopes, {
    'usage.listEvents': (req) => {
      if (req.pageToken === 'bad') throw new Refusal(status.INVALID_ARGUMENT, 'invalid_page_token', 'page_token is not a token this listing returned', 'page_token');
      if (req.from && req.to && (req.from as Date) >= (req.to as Date)) throw new Refusal(status.INVALID_ARGUMENT, 'empty_range', 'to must be after from', 'to');
      return { events: [stored], nextPageToken: req.pageToken ? '' : 'next-1', from: FROM, to: TO };
    },
  });
}

const QUERY = `query ($after: String, $type: String, $subject: String, $from: DateTime, $to: DateTime, $first: Int) {
  events(first: $first, after: $after, type: $type, subject: $subject, from: $from, to: $to) {
    nodes { id source type subject time ingestedAt data meterValues { meterSlug value uniqueKey dimensions } invalidValues { meterSlug reason } }
    endCursor hasNextPage from to
  }
}`;

describe('events (recent events)', () => {
  it('answers the Usage service’s page as a connection, data as stored, values as exact text', async () => {
    const { post, requests } = events();
    const res = await post(QUERY, { first: 10, type: 'llm', subject: 'cust-1' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({
      events: {
        nodes: [
          {
            id: 'e1',
            source: 'svc',
            type: 'llm',
            subject: 'cust-1',
            time: '2026-03-10T11:59:00.123Z',
            ingestedAt: '2026-03-10T11:59:01.000Z',
            data: '{"tokens":12345678901234567.891,"model":"gpt-4o"}',
            meterValues: [{ meterSlug: 'tokens', value: '12345678901234567.891', uniqueKey: null, dimensions: { model: 'gpt-4o' } }],
            invalidValues: [{ meterSlug: 'latency', reason: 'value_path $.ms is missing' }],
          },
        ],
        endCursor: 'next-1',
        hasNextPage: true,
        from: FROM.toISOString(),
        to: TO.toISOString(),
      },
    });
    // The organization is the key's; unset filters are empty, unset times left to the service's defaults.
    expect(requests.get('usage.listEvents')?.[0]).toEqual({ organizationId: ORG, pageSize: 10, pageToken: '', type: 'llm', subject: 'cust-1', from: undefined, to: undefined });
    const last = await post(QUERY, { after: 'next-1' });
    expect(last.body.data).toMatchObject({ events: { endCursor: null, hasNextPage: false } });
    expect(requests.get('usage.listEvents')?.[1]).toMatchObject({ pageSize: 50, pageToken: 'next-1' });
  });

  it('refusals name the argument the caller sent', async () => {
    const { post, calls } = events();
    const cursor = await post(QUERY, { after: 'bad' });
    expect(cursor.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'invalid_page_token', field: 'after' });
    const range = await post(QUERY, { from: TO.toISOString(), to: FROM.toISOString() });
    expect(range.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'empty_range', field: 'to' });
    const first = await post(QUERY, { first: 201 });
    expect(first.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(calls.get('usage.listEvents')).toBe(2);
  });

  it('needs usage:read', async () => {
    const { post, calls } = events(['billing:read']);
    const res = await post('{ events { nodes { id } } }');
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(calls.get('usage.listEvents')).toBeUndefined();
  });
});
