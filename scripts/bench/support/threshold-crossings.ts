import type { ClickHouseClient } from '@clickhouse/client';
import { sqlString } from '@polaris/clickhouse';
import { CROSSING_EVENT_TYPE, type CrossingCustomer, type CrossingTenant } from './crossing-tenant';
import { summarize, type LatencySummary } from './stats';
import type { WebhookReceiver } from './webhook-receiver';

/**
 * bench:notify's crossing section: each customer's usage is brought to one call below its
 * threshold, then its crossing call is sent through the collector at a random moment of the
 * window, and timed from the collector's 2xx (the event accepted) to the arrival of its
 * usage.threshold_crossed webhook (matched by thresholdId and customerExternalId).
 */

const SINGLE = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
/** 429/503 are answered with Retry-After: the send waits as told, at most this often. */
const SEND_ATTEMPTS = 5;
const POLL_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface CrossingRun {
  collectorUrl: string;
  tenant: CrossingTenant;
  receiver: WebhookReceiver;
  clickhouse: ClickHouseClient;
  run: string;
  /** Calls that cross a threshold (each customer's threshold quantity). */
  limit: number;
  windowMs: number;
  /** Longest a crossing may wait after the window for its webhook before it counts as missing. */
  tailCapMs: number;
  /** After the last webhook: how long to keep listening for a second firing or a repeat. */
  quietMs: number;
}

export interface CrossingResult {
  latency: LatencySummary;
  missing: number;
  /** Thresholds whose webhooks carried more than one webhook-id (fired, or recorded, more than once). */
  firedMoreThanOnce: number;
  /** Deliveries repeated under one webhook-id (retries; a receiver deduplicates them). */
  repeatedDeliveries: number;
  /** Webhooks that arrived before their crossing call was accepted. */
  early: number;
  /** Webhooks naming another customer than their threshold's. */
  mismatched: number;
  /** The window's actual span, first to last acceptance. */
  spanMs: number;
}

const callEvent = (run: string, customer: CrossingCustomer, n: number) => ({
  specversion: '1.0',
  id: `${run}-${customer.externalId}-${n}`,
  source: 'bench-notify',
  type: CROSSING_EVENT_TYPE,
  subject: customer.subject,
  time: new Date().toISOString(),
  data: { n },
});

/** POSTs to the collector until it answers 2xx; answers the moment it did (Date.now()). */
async function post(url: string, apiKey: string, contentType: string, body: unknown): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${apiKey}` }, body: JSON.stringify(body) });
    const accepted = Date.now();
    const text = await res.text();
    if (res.ok) return accepted;
    if ((res.status !== 429 && res.status !== 503) || attempt >= SEND_ATTEMPTS) throw new Error(`the collector answered ${res.status}: ${text.slice(0, 300)}`);
    await sleep(1_000 * Number(res.headers.get('retry-after') ?? 1));
  }
}

async function storedEvents(clickhouse: ClickHouseClient, organizationId: string): Promise<number> {
  // ClickHouse 18.16 has no query parameters: the org id is quoted as a literal.
  const rs = await clickhouse.query({ query: `SELECT count() AS n FROM events_raw WHERE namespace = ${sqlString(organizationId)}`, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
}

/** Each customer's calls up to one below its threshold, sent in one request and waited for in ClickHouse. */
export async function sendUsageBelowThresholds(r: CrossingRun, capMs: number): Promise<void> {
  const below = r.tenant.customers.flatMap((c) => Array.from({ length: r.limit - 1 }, (_, n) => callEvent(r.run, c, n)));
  await post(r.collectorUrl, r.tenant.apiKey, BATCH, below);
  const until = Date.now() + capMs;
  while ((await storedEvents(r.clickhouse, r.tenant.organizationId)) < below.length) {
    if (Date.now() > until) throw new Error(`${below.length} calls below the thresholds not stored within ${capMs} ms`);
    await sleep(POLL_MS);
  }
}

/** Sends every crossing call at its random moment of the window; answers thresholdId → accepted at. */
async function sendCrossings(r: CrossingRun): Promise<Map<string, number>> {
  const accepted = new Map<string, number>();
  const start = Date.now();
  await Promise.all(
    r.tenant.customers.map(async (customer) => {
      await sleep(Math.random() * r.windowMs);
      accepted.set(customer.thresholdId, await post(r.collectorUrl, r.tenant.apiKey, SINGLE, callEvent(r.run, customer, r.limit - 1)));
    }),
  );
  console.log(`  ${accepted.size} crossing calls accepted over ${((Date.now() - start) / 1000).toFixed(1)} s`);
  return accepted;
}

const crossingsOf = (receiver: WebhookReceiver) => receiver.received.filter((w) => w.event.type === 'usage.threshold_crossed');

async function waitForWebhooks(r: CrossingRun, thresholdIds: ReadonlySet<string>): Promise<void> {
  const until = Date.now() + r.tailCapMs;
  while (Date.now() < until) {
    const arrived = new Set(crossingsOf(r.receiver).map((w) => String(w.event.data.thresholdId)));
    if ([...thresholdIds].every((id) => arrived.has(id))) return;
    await sleep(POLL_MS);
  }
}

/** Runs the window, waits for the webhooks and a quiet period, and measures. */
export async function measureCrossings(r: CrossingRun): Promise<CrossingResult> {
  const accepted = await sendCrossings(r);
  await waitForWebhooks(r, new Set(accepted.keys()));
  await sleep(r.quietMs);
  const byThreshold = new Map(r.tenant.customers.map((c) => [c.thresholdId, c]));
  const latencies: number[] = [];
  let missing = 0;
  let firedMoreThanOnce = 0;
  let repeatedDeliveries = 0;
  let early = 0;
  let mismatched = 0;
  for (const [thresholdId, at] of accepted) {
    const webhooks = crossingsOf(r.receiver).filter((w) => w.event.data.thresholdId === thresholdId);
    const first = webhooks[0];
    if (!first) {
      missing++;
      continue;
    }
    const ids = new Set(webhooks.map((w) => w.webhookId));
    if (ids.size > 1) firedMoreThanOnce++;
    repeatedDeliveries += webhooks.length - ids.size;
    if (webhooks.some((w) => w.event.data.customerExternalId !== byThreshold.get(thresholdId)?.externalId)) mismatched++;
    if (first.at < at) early++;
    latencies.push(first.at - at);
  }
  const times = [...accepted.values()];
  return { latency: summarize(latencies), missing, firedMoreThanOnce, repeatedDeliveries, early, mismatched, spanMs: Math.max(...times) - Math.min(...times) };
}

/** What went wrong in a crossing run (never slowness: the goal is reported, not enforced). */
export function crossingFailures(result: CrossingResult, expected: number): string[] {
  const failures: string[] = [];
  if (result.missing > 0) failures.push(`${result.missing} of ${expected} threshold crossings had no webhook`);
  if (result.firedMoreThanOnce > 0) failures.push(`${result.firedMoreThanOnce} thresholds fired more than once (distinct webhook-ids)`);
  if (result.early > 0) failures.push(`${result.early} thresholds fired before their crossing call was accepted`);
  if (result.mismatched > 0) failures.push(`${result.mismatched} webhooks named another customer than their threshold's`);
  return failures;
}
