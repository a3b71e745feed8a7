import { describe, expect, it } from 'vitest';
import { createTenant } from './support/tenants';
import { cloudEvent, eventually, postEvents } from './support/http';
import { collectorUrl } from './support/ports';
import { storedCount, storedEvents } from './support/events-store';
import { fuzzRequests, type FuzzRequest } from './support/fuzz-inputs';

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
