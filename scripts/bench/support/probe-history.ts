/**
 * The sink's "already stored?" probe against an organization's history: the time of one probe
 * of a batch of `batchSize` identities (half stored, half new, random UUID-like ids as the SDK
 * makes them) with 0, then more events already stored. History is made by ClickHouse itself
 * (INSERT … SELECT FROM numbers() into events_raw, whose view fills event_identities_v2 as for
 * the sink's inserts): on a 2-core box 100 M rows through the sink would take hours.
 *
 * Two kinds of history: received inside the dedup window (the probe reads it: the worst case)
 * and received before it (the probe must not read it at all: what the issue measured).
 * Both probes are timed: the sink's (event_identity_hashes_v2 over the window) and the one it
 * replaced (events_raw, every stored event of the org).
 *
 * The probe reads one granule per hash in every part of the months it probes, so its cost
 * follows the part count. History loaded in 2 M-row INSERTs leaves many more parts than a
 * long-running sink's table, whose merges have caught up: history inside the window is timed
 * twice, just loaded and once the probe table's merges have settled, each with its part count.
 */
import { ALL_PARTITIONS, eventIdentities, eventsRaw, identityHash, sqlString, type ClickHouseClient, type EventIdentity } from '@polaris/clickhouse';
import { IdentityFilter } from '../../../sink-worker/src/events/identity-filter';
import { randomUUID } from 'node:crypto';
import { ms } from './stats';
import { scalar } from './sink-steps';

const DAY_MS = 86_400_000;
const REPEATS = 5;

export interface ProbeTiming {
  stored: number;
  window: 'inside' | 'before';
  /** Timed right after loading the history, or once the probe table's merges had settled. */
  merges: 'just loaded' | 'settled' | 'still merging';
  /** Active parts of the probe table in the months the probe reads (those since its day bound). */
  partsProbed: number;
  sinkProbeMs: number;
  /** The probe of events_raw it replaced; timed once per level (settled, or just loaded when not waiting). */
  oldProbeMs: number | undefined;
  found: number;
  /** The sink's dedup per batch with its partition filter: hash + filter + probe of the "maybe"s, half of the batch stored. */
  filteredMs: number;
  /** The same with 1% of the batch stored (client retries across batches, the usual case). */
  filteredFewMs: number;
  /** Identities the filter could not rule out, of the batch with 1% stored. */
  maybeFew: number;
  rebuildMs: number;
  filterBytes: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function timed(repeats: number, work: () => Promise<number>): Promise<{ ms: number; found: number }> {
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    found = await work();
    times.push(performance.now() - t);
  }
  return { ms: median(times), found };
}

/**
 * Adds `count` events of `orgId`, ids `h<n>` hashed, received over the `spanDays` days ending
 * `endDaysAgo` days ago (ingestion time is what the window runs by).
 */
async function addHistory(client: ClickHouseClient, orgId: string, first: number, count: number, endDaysAgo: number, spanDays: number): Promise<void> {
  // In INSERTs of at most HISTORY_CHUNK rows: each well inside the client's request timeout.
  for (let at = first; at < first + count; at += HISTORY_CHUNK) await addHistoryChunk(client, orgId, at, Math.min(HISTORY_CHUNK, first + count - at), endDaysAgo, spanDays);
}

// 1 M: a 2 M-row INSERT through the views outlived the 30 s timeout at 20–40 M rows while merges ran.
const HISTORY_CHUNK = 1_000_000;

async function addHistoryChunk(client: ClickHouseClient, orgId: string, first: number, count: number, endDaysAgo: number, spanDays: number): Promise<void> {
  const spanSeconds = spanDays * 86_400;
  await client.command({
    query: `INSERT INTO events_raw (namespace, id, source, type, subject, time, time_ms, data, ingested_at, ingest_seq, payload_fingerprint)
      SELECT ${sqlString(orgId)}, lower(hex(sipHash128(toString(number)))), 'bench', 'api.request', concat('cust-', toString(number % 50)),
             toDateTime(received), toUInt64(received) * 1000, '{"tokens":1}', toDateTime(received), number, sipHash64(number)
      FROM (SELECT number, toUInt32(now()) - ${endDaysAgo * 86_400} - (number % ${spanSeconds}) AS received FROM numbers(${first}, ${count}))`,
    clickhouse_settings: { max_insert_block_size: '1048576' },
  });
}

async function sampleStored(client: ClickHouseClient, orgId: string, n: number): Promise<EventIdentity[]> {
  const rs = await client.query({ query: `SELECT source, id FROM events_raw WHERE namespace = ${sqlString(orgId)} AND rand() % 1000 = 0 LIMIT ${n}`, format: 'JSONEachRow' });
  return (await rs.json<{ source: string; id: string }>()).map((r) => ({ namespace: orgId, ...r }));
}

const HASH_TABLE = 'event_identity_hashes_v2';
/** Merges are settled when none runs on the probe table and its part count held for this long. */
const SETTLED_FOR_MS = 20_000;
const SETTLE_POLL_MS = 2_000;

function partsProbed(client: ClickHouseClient, sinceDay: string): Promise<number> {
  return scalar(
    client,
    `SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = '${HASH_TABLE}' AND active AND partition_id >= ${sqlString(sinceDay.slice(0, 7).replace('-', ''))}`,
  );
}

/**
 * Waits until no merge runs on the probe table and its active part count has not changed for
 * SETTLED_FOR_MS, at most `deadlineMs`. Returns whether it settled. (18.16 keeps merging small
 * parts more eagerly as they age, so "settled" is where its merge selector stops for now.)
 */
async function settleMerges(client: ClickHouseClient, deadlineMs: number): Promise<boolean> {
  const deadline = performance.now() + deadlineMs;
  let last = -1;
  let since = performance.now();
  while (performance.now() < deadline) {
    const merging = await scalar(client, `SELECT count() AS n FROM system.merges WHERE database = currentDatabase() AND table = '${HASH_TABLE}'`);
    const parts = await scalar(client, `SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = '${HASH_TABLE}' AND active`);
    if (merging > 0 || parts !== last) {
      last = parts;
      since = performance.now();
    } else if (performance.now() - since >= SETTLED_FOR_MS) return true;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
  return false;
}

/**
 * Times both probes for each history level in `levels` (cumulative), for history inside or before
 * the window; history inside it is timed just loaded and again after up to `settleMs` of merging.
 */
export async function probeAgainstHistory(
  client: ClickHouseClient,
  orgId: string,
  levels: number[],
  window: 'inside' | 'before',
  opts: { batchSize: number; windowDays: number; settleMs: number; log: (line: string) => void },
): Promise<ProbeTiming[]> {
  const out: ProbeTiming[] = [];
  let stored = 0;
  const sinceDay = new Date(Date.now() - (opts.windowDays + 1) * DAY_MS).toISOString().slice(0, 10);
  for (const level of levels) {
    let loaded = false;
    if (level > stored) {
      const t = performance.now();
      // Inside: spread over the window's days. Before: the 30 days before the window.
      if (window === 'inside') await addHistory(client, orgId, stored, level - stored, 0, opts.windowDays - 1);
      else await addHistory(client, orgId, stored, level - stored, opts.windowDays + 2, 30);
      opts.log(`  history ${window} the window: ${stored} → ${level} events in ${ms(performance.now() - t)}`);
      stored = level;
      loaded = true;
    }
    const storedIds = stored > 0 ? await sampleStored(client, orgId, Math.floor(opts.batchSize / 2)) : [];
    const batch = [...storedIds, ...Array.from({ length: opts.batchSize - storedIds.length }, () => ({ namespace: orgId, source: 'bench', id: randomUUID() }))];
    const few = [...storedIds.slice(0, Math.floor(opts.batchSize / 100)), ...batch.slice(storedIds.length)];
    while (few.length < opts.batchSize) few.push({ namespace: orgId, source: 'bench', id: randomUUID() });
    // The sink's partition filter, rebuilt as on assignment. History made here carries no
    // partition (kafka_partitions 0), so it is all in the one filter: the worst case, a sink
    // owning every partition of this org's traffic.
    const t = performance.now();
    const scope = { sinceDay, partitions: [0], partitionCount: 1 };
    const filter = new IdentityFilter([...(await eventIdentities.countHashes(client, scope)).values()].reduce((a, b) => a + b, 0));
    await eventIdentities.readHashes(client, scope, (p, high, low) => (p === 0 || p === ALL_PARTITIONS) && filter.add({ high, low }));
    const rebuildMs = performance.now() - t;
    const dedup = async (ids: EventIdentity[]) => {
      const maybe = ids.filter((e) => filter.mightHold(identityHash(e.namespace, e.source, e.id)));
      return { found: maybe.length > 0 ? (await eventIdentities.findStored(client, maybe, sinceDay)).size : 0, maybe: maybe.length };
    };
    const measure = async (merges: ProbeTiming['merges'], withOld: boolean): Promise<ProbeTiming> => {
      const parts = await partsProbed(client, sinceDay);
      const sink = await timed(REPEATS, async () => (await eventIdentities.findStored(client, batch, sinceDay)).size);
      const old = withOld ? await timed(REPEATS, async () => (await eventsRaw.findExisting(client, batch)).size) : undefined;
      const filtered = await timed(REPEATS, async () => (await dedup(batch)).found);
      let maybeFew = 0;
      const filteredFew = await timed(REPEATS, async () => {
        const r = await dedup(few);
        maybeFew = r.maybe;
        return r.found;
      });
      opts.log(
        `  ${stored} stored (${window}, ${merges}, ${parts} parts probed): sink probe ${ms(sink.ms)} (found ${sink.found})` +
          (old ? `, events_raw probe ${ms(old.ms)} (found ${old.found})` : '') +
          `; filter rebuilt in ${ms(rebuildMs)} (${(filter.bytes / 1e6).toFixed(1)} MB), filtered dedup ${ms(filtered.ms)} (found ${filtered.found}), with 1% stored ${ms(filteredFew.ms)} (${maybeFew} maybe, found ${filteredFew.found})`,
      );
      return {
        stored, window, merges, partsProbed: parts, sinkProbeMs: sink.ms, oldProbeMs: old?.ms, found: sink.found, filteredMs: filtered.ms,
        filteredFewMs: filteredFew.ms, maybeFew, rebuildMs, filterBytes: filter.bytes,
      };
    };
    // History before the window is pruned whole by the day bound: its merges change nothing.
    const settle = loaded && window === 'inside' && opts.settleMs > 0;
    out.push(await measure('just loaded', !settle));
    if (settle) {
      const t0 = performance.now();
      const settled = await settleMerges(client, opts.settleMs);
      opts.log(`  merges ${settled ? 'settled' : 'still running'} after ${ms(performance.now() - t0)}`);
      out.push(await measure(settled ? 'settled' : 'still merging', true));
    }
  }
  return out;
}
