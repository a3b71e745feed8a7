import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RunningSystem } from '@polaris/dev/launcher';
import { createTenant, type Tenant } from './support/tenants';
import { cloudEvent, eventually, postEvents } from './support/http';
import { collectorUrl, E2E_PORTS } from './support/ports';
import { storedCount, storedEvents } from './support/events-store';
import { fuzzRequests, type FuzzRequest } from './support/fuzz-inputs';
import { malformedRequest, slowRequest, type MalformedRequest } from './support/fuzz-malformed';
import { freePort, hasExited, metric, serviceOf, startPrivate } from './support/private-services';
import { sendHttp, sendSlowly, type RawAnswer } from './support/raw-http';
import { createPrivateTopic, deleteTopicAndGroup, sumOffsets, topicEnds } from './support/topics';

/** Fixed so a failure reproduces; FUZZ_SEED=<n> FUZZ_REQUESTS=<n> explore further. */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed2026);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
/** Enough to keep the collector busy on 2 cores without queueing inside the test. */
const IN_FLIGHT = 16;

interface Answer {
  request: FuzzRequest;
  index: number;
  status: number;
  text: string;
}

async function send(apiKey: string, request: FuzzRequest, index: number): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  try {
    const body = typeof request.body === 'string' ? request.body : new Uint8Array(request.body);
    const res = await fetch(`${collectorUrl}/v1/events`, { method: 'POST', headers, body, signal: AbortSignal.timeout(20_000) });
    return { request, index, status: res.status, text: await res.text() };
  } catch (err) {
    // A reset connection or a timeout is as bad as a 5xx: report it as one.
    return { request, index, status: 599, text: `no answer: ${String(err)}` };
  }
}

/** `(source, id)` of every event a 202 answer accepted, as the collector decoded the body. */
function acceptedIdentities(request: FuzzRequest): string[] {
  const text = typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8');
  const parsed = JSON.parse(text) as unknown;
  const events = (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ source: string; id: string }>;
  return events.map((e) => JSON.stringify([e.source, e.id]));
}

const preview = (a: Answer) =>
  `#${a.index} ${a.request.kind} [${a.request.contentType}] → ${a.status} ${a.text.slice(0, 200)}\n  body: ${String(a.request.body).slice(0, 300)}`;

describe('fuzzing POST /v1/events', () => {
  it(`answers ${REQUESTS} generated requests without a single 5xx, and stores every event it accepts`, async () => {
    const tenant = await createTenant();
    const requests = fuzzRequests(SEED, REQUESTS, Date.now());
    console.log(`fuzz: seed=${SEED} (FUZZ_SEED to reproduce), ${requests.length} requests, ${IN_FLIGHT} in flight`);

    const started = Date.now();
    const answers: Answer[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = next++; i < requests.length; i = next++) answers.push(await send(tenant.apiKey, requests[i] as FuzzRequest, i));
      }),
    );
    const seconds = (Date.now() - started) / 1000;

    const byStatus = new Map<number, number>();
    const byKind = new Map<string, Record<number, number>>();
    for (const a of answers) {
      byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
      const kind = byKind.get(a.request.kind) ?? {};
      kind[a.status] = (kind[a.status] ?? 0) + 1;
      byKind.set(a.request.kind, kind);
    }
    const serverErrors = answers.filter((a) => a.status >= 500).sort((a, b) => a.index - b.index);
    console.log(`fuzz: ${answers.length} requests in ${seconds.toFixed(1)} s; status counts ${JSON.stringify(Object.fromEntries([...byStatus].sort()))}`);
    console.log(`fuzz: by kind ${JSON.stringify(Object.fromEntries(byKind))}`);
    if (serverErrors.length > 0) console.log(`fuzz: first 5xx answers:\n${serverErrors.slice(0, 5).map(preview).join('\n')}`);
    expect(answers).toHaveLength(REQUESTS);
    expect(serverErrors.length, `5xx answers (seed ${SEED}); first: ${serverErrors[0] ? preview(serverErrors[0]) : ''}`).toBe(0);
    // Only 202 and 4xx: a 2xx other than 202, or a 3xx, would be a contract change.
    expect([...byStatus.keys()].every((s) => s === 202 || (s >= 400 && s < 500))).toBe(true);

    // Everything accepted must be storable: the sink stores each identity once, and none is lost.
    const expected = new Set(answers.filter((a) => a.status === 202).flatMap((a) => acceptedIdentities(a.request)));
    console.log(`fuzz: ${expected.size} distinct events accepted`);
    const stored = await eventually(async () => {
      const n = await storedCount(tenant.orgId);
      return n >= expected.size ? n : undefined;
    }, `all ${expected.size} accepted fuzz events to be stored`, 90_000, 500);
    expect(stored).toBe(expected.size);
    const storedIds = new Set((await storedEvents(tenant.orgId)).map((e) => JSON.stringify([e.source, e.id])));
    expect([...expected].filter((id) => !storedIds.has(id)).slice(0, 5)).toEqual([]);

    // And the sink is still consuming: a fresh organization's ordinary event is stored.
    const fresh = await createTenant();
    const event = cloudEvent();
    expect((await postEvents(fresh.apiKey, event)).status).toBe(202);
    const [row] = await eventually(async () => {
      const rows = await storedEvents(fresh.orgId);
      return rows.length > 0 ? rows : undefined;
    }, 'a fresh organization’s event to be stored after the fuzz run', 20_000);
    expect(row?.id).toBe(event.id);
  }, 300_000);
});

/** Malformed requests of the fast lane (fast-check, seeded like the test above), and of the slow one. */
const MALFORMED_REQUESTS = Number(process.env.FUZZ_MALFORMED_REQUESTS ?? 10_000);
const SLOW_REQUESTS = Number(process.env.FUZZ_SLOW_REQUESTS ?? 60);
/** The private collector's request timeout: a stalled body is cut (408) after this. */
const REQUEST_TIMEOUT_MS = 2_000;
/** How much the collector's resident memory may grow over the run: bounded, whatever it was sent. */
const RSS_GROWTH_BOUND = 256 * 1024 * 1024;
/** And never near the memory limit its Kubernetes Deployment gives it (k8s/base/collector.yaml: 512Mi). */
const RSS_CEILING = 448 * 1024 * 1024;

describe('fuzzing POST /v1/events with malformed requests only (fast-check)', () => {
  let system: RunningSystem | undefined;
  let tenant: Tenant;
  let topic: string;
  let httpPort: number;
  let opsPort: number;

  beforeAll(async () => {
    tenant = await createTenant();
    // A topic of its own: whatever reached the broker would be in it.
    topic = await createPrivateTopic('fuzz-malformed', 2);
    httpPort = await freePort();
    opsPort = await freePort();
    system = await startPrivate('fuzz-malformed', [
      {
        name: 'collector',
        opsPort,
        env: {
          HTTP_PORT: String(httpPort),
          GRPC_PORT: String(await freePort()),
          IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
          EVENTS_TOPIC: topic,
          HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
          HTTP_HEADERS_TIMEOUT_MS: '1000',
        },
      },
    ]);
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
    if (topic) await deleteTopicAndGroup(topic, `${topic}-none`);
  });

  it(`answers ${MALFORMED_REQUESTS} + ${SLOW_REQUESTS} generated malformed requests with 4xx JSON errors only, publishes nothing, stays up with bounded memory`, async () => {
    const fast = fc.sample(malformedRequest, { seed: SEED, numRuns: MALFORMED_REQUESTS });
    const slow = fc.sample(slowRequest, { seed: SEED + 1, numRuns: SLOW_REQUESTS });
    const collector = serviceOf(system, 'collector');
    const rssBefore = await metric(opsPort, 'process_resident_memory_bytes');
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const answers: Array<{ request: MalformedRequest; answer: RawAnswer }> = [];
    const lane = async (requests: MalformedRequest[], inFlight: number, send: (r: MalformedRequest, i: number) => Promise<RawAnswer>) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          for (let i = next++; i < requests.length; i = next++) {
            const request = requests[i] as MalformedRequest;
            answers.push({ request, answer: await send(request, i) });
          }
        }),
      );
    };
    const started = Date.now();
    await Promise.all([
      lane(fast, IN_FLIGHT, (r) => sendHttp(httpPort, agent, tenant.apiKey, r)),
      // Trickled bodies arrive in 4-9 pieces 60 ms apart, well within the request timeout.
      lane(slow, 10, (r, i) => sendSlowly(httpPort, tenant.apiKey, r, 4 + (i % 6), 60)),
    ]);
    agent.destroy();
    const seconds = (Date.now() - started) / 1000;
    const rssAfter = await metric(opsPort, 'process_resident_memory_bytes');

    const isJsonError = (text: string) => {
      try {
        const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        return typeof body.error?.code === 'string' && typeof body.error.message === 'string';
      } catch {
        return false;
      }
    };
    const byKind = new Map<string, Record<number, number>>();
    for (const { request, answer } of answers) {
      const counts = byKind.get(request.kind) ?? {};
      counts[answer.status] = (counts[answer.status] ?? 0) + 1;
      byKind.set(request.kind, counts);
    }
    const wrong = answers.filter(({ answer }) => answer.status < 400 || answer.status >= 500 || !isJsonError(answer.text));
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
    console.log(`fuzz (malformed): seed=${SEED}, ${answers.length} requests in ${seconds.toFixed(1)} s`);
    console.log(`fuzz (malformed): collector RSS ${mib(rssBefore)} before, ${mib(rssAfter)} after`);
    console.log(`fuzz (malformed): status by kind ${JSON.stringify(Object.fromEntries([...byKind].sort()))}`);
    const show = ({ request, answer }: (typeof answers)[number]) =>
      `${request.kind} ${JSON.stringify(request.headers)} ${request.delivery} → ${answer.status} ${answer.text.slice(0, 200)}\n  body: ${request.body.slice(0, 200)}`;
    if (wrong.length > 0) console.log(`fuzz (malformed): answers that are not a 4xx JSON error:\n${wrong.slice(0, 10).map(show).join('\n')}`);

    expect(answers).toHaveLength(MALFORMED_REQUESTS + SLOW_REQUESTS);
    expect(wrong.length, `not a 4xx JSON error (seed ${SEED}); first: ${wrong[0] ? show(wrong[0]) : ''}`).toBe(0);
    // Up and answering: alive, and the same process as before the run.
    expect(hasExited(collector)).toBe(false);
    expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
    expect(rssAfter - rssBefore).toBeLessThan(RSS_GROWTH_BOUND);
    expect(rssAfter).toBeLessThan(RSS_CEILING);
    // Nothing reached the broker.
    expect(await metric(opsPort, 'collector_events_produced_total')).toBe(0);
    expect(sumOffsets(await topicEnds(topic))).toBe(0);
    // And it still takes a good event.
    expect((await postEvents(tenant.apiKey, cloudEvent(), 'application/cloudevents+json', `http://127.0.0.1:${httpPort}`)).status).toBe(202);
    expect(sumOffsets(await topicEnds(topic))).toBe(1);
  }, 120_000);
});
