import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudEvent, Emitter, emitterFor, HTTP, httpTransport, Mode, type Message } from 'cloudevents';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { eventually } from './support/http';
import { collectorUrl } from './support/ports';
import { storedEvents, type StoredEvent } from './support/events-store';
import { createTenant, type Tenant } from './support/tenants';
import { groupReached, topicEnds } from './support/topics';

/**
 * The official `cloudevents` npm SDK, unchanged, in every way its README shows, against the real
 * collector → broker → sink → ClickHouse: HTTP.binary and HTTP.structured messages posted with
 * fetch, emitterFor(httpTransport(url)) in binary (its default) and structured mode,
 * emitterFor(<own transport>, { mode }) and the Emitter singleton. Every event is sent twice (a
 * retry) and must be stored exactly once, with its attributes and data as sent.
 */

const url = `${collectorUrl}/v1/events`;
let tenant: Tenant;
const sent: CloudEvent<Record<string, unknown>>[] = [];

function usage(label: string, extra: Record<string, unknown> = {}): CloudEvent<Record<string, unknown>> {
  const event = new CloudEvent<Record<string, unknown>>({
    type: 'llm.tokens',
    source: `/sdk/${label}`,
    subject: `customer-${label}`,
    // Data with text a header could not carry as is, and a number a float would round.
    data: { model: 'large', label, note: 'café 日本 😀', tokens: 1200 },
    ...extra,
  });
  sent.push(event);
  return event;
}

/** Posts an SDK Message with fetch, as the README's axios example does. */
async function postMessage(message: Message, auth: Record<string, string>): Promise<{ status: number; body: string }> {
  const headers = { ...(message.headers as Record<string, string>), ...auth };
  const res = await fetch(url, { method: 'POST', headers, body: message.body as string, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, body: await res.text() };
}

const bearer = () => ({ authorization: `Bearer ${tenant.apiKey}` });
const xApiKey = () => ({ 'x-api-key': tenant.apiKey });

beforeAll(async () => {
  tenant = await createTenant();
});

afterAll(() => {
  Emitter.getInstance().removeAllListeners('cloudevent');
});

describe('the cloudevents SDK, unchanged, against the running system', () => {
  it('HTTP.binary and HTTP.structured messages posted with fetch (application/json and application/cloudevents+json, both ; charset=utf-8)', async () => {
    for (const [mode, auth] of [['binary', bearer], ['structured', xApiKey]] as const) {
      const event = usage(`fetch-${mode}`, { region: 'eu', time: new Date(Date.now() - 3_600_000).toISOString() });
      const message = mode === 'binary' ? HTTP.binary(event) : HTTP.structured(event);
      expect(String(message.headers['content-type'])).toMatch(/; charset=utf-8$/);
      for (let attempt = 0; attempt < 2; attempt++) expect(await postMessage(message, auth())).toEqual({ status: 202, body: '{"accepted":1}' });
    }
  });

  it('emitterFor(httpTransport(url)) in binary mode (the default) and in structured mode', async () => {
    const binary = emitterFor(httpTransport(url));
    const structured = emitterFor(httpTransport(url), { mode: Mode.STRUCTURED });
    for (const [label, emit] of [['emitter-binary', binary], ['emitter-structured', structured]] as const) {
      const event = usage(label);
      for (let attempt = 0; attempt < 2; attempt++) {
        // httpTransport resolves with the answer's body and headers (no status): 202's body says it.
        const answer = (await emit(event, { headers: xApiKey() })) as { body: string };
        expect(answer.body).toBe('{"accepted":1}');
      }
    }
  });

  it('emitterFor(<own transport>, { mode: Mode.BINARY }), and the Emitter singleton', async () => {
    const statuses: number[] = [];
    const emit = emitterFor(async (message: Message) => statuses.push((await postMessage(message, bearer())).status), { mode: Mode.BINARY });
    const own = usage('own-transport');
    await emit(own);
    await emit(own);

    Emitter.on('cloudevent', emit);
    const singleton = usage('singleton');
    await singleton.emit();
    await singleton.emit();
    expect(statuses).toEqual([202, 202, 202, 202]);
  });

  it('stores every event exactly once, with its attributes and data as sent', async () => {
    const byId = (rows: StoredEvent[]) => new Map(rows.map((r) => [r.id, r]));
    await eventually(async () => (byId(await storedEvents(tenant.orgId)).size >= sent.length ? true : undefined), `all ${sent.length} SDK events to be stored`);
    // Every copy the broker has is consumed, so a duplicate would show by now.
    const ends = await topicEnds(EVENTS_TOPIC);
    await eventually(() => groupReached('polaris-sink', EVENTS_TOPIC, ends), 'the sink to consume every copy');
    const final = await storedEvents(tenant.orgId);
    expect(final).toHaveLength(sent.length);
    const stored = byId(final);
    for (const event of sent) {
      const row = stored.get(event.id);
      expect(row, event.source).toMatchObject({ source: event.source, type: 'llm.tokens', subject: event.subject, time_ms: String(Date.parse(event.time ?? '')) });
      expect(JSON.parse(row?.data ?? 'null')).toEqual(event.data);
    }
  });
});

describe('binary mode refusals reach an SDK user as JSON naming the header', () => {
  it('a message without ce-subject (the customer billed): 400 missing_ce_header, nothing stored', async () => {
    const event = new CloudEvent({ type: 'llm.tokens', source: '/sdk/no-subject', id: `no-subject-${randomUUID()}`, data: { tokens: 1 } });
    const res = await postMessage(HTTP.binary(event), bearer());
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'missing_ce_header', field: 'ce-subject' } });
  });
});
