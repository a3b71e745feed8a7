import { randomUUID } from 'node:crypto';

/** Every request has a deadline: a hang fails the test instead of stalling the suite. */
const REQUEST_DEADLINE_MS = 20_000;

/**
 * An event as a meter test sends it. `dataJson` is the event's `data` as raw JSON text, so a test
 * can send number literals exactly as an SDK might write them (`12.50`, `1.5e3`,
 * `99999999999999.999999999`), which a JS object would round or respell.
 */
export interface MeterEvent {
  id: string;
  source: string;
  type: string;
  subject: string;
  timeMs: number;
  dataJson: string;
}

export function meterEvent(fields: Omit<MeterEvent, 'id' | 'source'> & { id?: string; source?: string }): MeterEvent {
  return { id: `m-${randomUUID()}`, source: 'e2e-meters', ...fields };
}

/** The CloudEvents JSON of one event, `data` spliced in as its raw text. */
function cloudEventJson(e: MeterEvent): string {
  const head = JSON.stringify({ specversion: '1.0', id: e.id, source: e.source, type: e.type, subject: e.subject, time: new Date(e.timeMs).toISOString() });
  return `${head.slice(0, -1)},"data":${e.dataJson}}`;
}

/**
 * POSTs one batch to the collector (POST /v1/events, a CloudEvents batch); resolves to the HTTP
 * status. 202 means every event of the batch is durable in the broker.
 */
export async function postMeterEvents(collectorUrl: string, apiKey: string, events: readonly MeterEvent[]): Promise<number> {
  const res = await fetch(`${collectorUrl}/v1/events`, {
    method: 'POST',
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
    headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${apiKey}` },
    body: `[${events.map(cloudEventJson).join(',')}]`,
  });
  await res.arrayBuffer();
  return res.status;
}

/** Sends batches of at most `batchSize`, failing on any answer but 202. */
export async function sendAll(collectorUrl: string, apiKey: string, events: readonly MeterEvent[], batchSize = 500): Promise<void> {
  for (let i = 0; i < events.length; i += batchSize) {
    const status = await postMeterEvents(collectorUrl, apiKey, events.slice(i, i + batchSize));
    if (status !== 202) throw new Error(`the collector answered ${status} to a batch of meter events`);
  }
}

/** How many distinct identities (source, id) a list of sent events holds: the rows to expect. */
export const distinctIdentities = (events: readonly MeterEvent[]): number => new Set(events.map((e) => `${e.source}\n${e.id}`)).size;

/**
 * A deterministic pseudo-random generator (mulberry32), so a failing run can be replayed from
 * its printed seed.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/**
 * `data` JSON for a meter test: `tokens` (a value: valid numbers in several spellings, and
 * invalid ones), `model` (a dimension: strings, a number, null, missing, an object) and `user`
 * (a unique key: strings, a number and its string twin, missing), and `cost` (a second value, for
 * a new version that reads another path). Each key is left out when its pick is undefined.
 */
const TOKENS = ['7', '0.1', '0.2', '12.50', '"12.5"', '1.5e3', '"0.000000001"', '99999999999999.999999999', '-3.25', '0', '41', '"2"'];
const BAD_TOKENS = [undefined, 'null', '"abc"', 'true', '{}', '[1]', '1e21', '0.1234567891', '"1,5"'];
const MODELS = ['"gpt"', '"claude"', '"gpt"', '7', 'null', undefined, '"\'; DROP TABLE events_raw; --"'];
const BAD_MODELS = ['{"x":1}', '["a"]'];
const USERS = ['"u1"', '"u2"', '"u3"', '12', '"12"', 'true', undefined];
const COSTS = ['0.003', '0.0125', '"1.5"', '2', undefined, 'null'];

export function meterData(random: () => number): string {
  const tokens = random() < 0.8 ? pick(random, TOKENS) : pick(random, BAD_TOKENS);
  const model = random() < 0.95 ? pick(random, MODELS) : pick(random, BAD_MODELS);
  const user = pick(random, USERS);
  const fields = [
    ['tokens', tokens],
    ['model', model],
    ['user', user],
    ['cost', pick(random, COSTS)],
  ].filter((f): f is [string, string] => f[1] !== undefined);
  return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}
