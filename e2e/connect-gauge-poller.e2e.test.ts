import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { benthosBinary } from './support/benthos';
import { jsonLines, runConnect, type RunningConnect } from './support/connect';
import { storedEvents, type StoredEvent } from './support/events-store';
import { eventually } from './support/http';
import { collectorUrl } from './support/ports';
import { freePort } from './support/private-services';
import { createTenant, type Tenant } from './support/tenants';
import { groupReached, topicEnds } from './support/topics';

/**
 * collector/connect/gauge-poller.yaml, run for real by the Benthos binary: it polls a small local
 * HTTP server that shows seats per tenant, on a schedule, and each reading becomes an event in
 * ClickHouse with the value as the endpoint wrote it; a restart within an interval stores no
 * reading twice; a reading without a subject is dead-lettered alone.
 */

let binary: string;
let gauge: Server;
let gaugeUrl: string;
let polls = 0;
let dir: string;
const running: RunningConnect[] = [];

// Written by hand: a value a float would round. The last reading has no tenant id.
const ANSWER = '{"tenants":[{"id":"cus_1","seats":12},{"id":"cus_2","seats":3.250000000000000001},{"seats":1}]}';

function poller(tenant: Tenant, interval: string): Promise<RunningConnect> {
  return runConnect(binary, 'gauge-poller', {
    GAUGE_URL: gaugeUrl,
    GAUGE_POLL_INTERVAL: interval,
    GAUGE_NAME: 'seats',
    GAUGE_ITEMS_PATH: 'tenants',
    GAUGE_SUBJECT_FIELD: 'id',
    GAUGE_VALUE_FIELD: 'seats',
    POLARIS_COLLECTOR_URL: collectorUrl,
    POLARIS_API_KEY: tenant.apiKey,
    DEAD_LETTER_PATH: join(dir, `dead-letter-${interval}.jsonl`),
  }).then((started) => {
    running.push(started);
    return started;
  });
}

async function settledRows(orgId: string, atLeast: number): Promise<StoredEvent[]> {
  await eventually(async () => ((await storedEvents(orgId)).length >= atLeast ? true : undefined), `${atLeast} readings to be stored`, 60_000);
  const ends = await topicEnds(EVENTS_TOPIC);
  await eventually(() => groupReached('polaris-sink', EVENTS_TOPIC, ends), 'the sink to consume every copy', 60_000);
  return storedEvents(orgId);
}

beforeAll(async () => {
  binary = await benthosBinary();
  dir = mkdtempSync(join(tmpdir(), 'polaris-gauge-'));
  gauge = createServer((_req, res) => {
    polls++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => gauge.listen(port, '127.0.0.1', resolve));
  gaugeUrl = `http://127.0.0.1:${port}/seats`;
}, 600_000);

afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
  await new Promise((resolve) => gauge?.close(resolve));
});

describe('the gauge poller, against the running collector', () => {
  it('polls on its schedule: one event per tenant and interval, the value digit for digit', async () => {
    const tenant = await createTenant();
    const every = await poller(tenant, '1s');
    // Readings of at least three intervals.
    await eventually(async () => ((await every.counter('output_sent', 'collector')) >= 6 ? true : undefined), 'three polls to be sent', 30_000);
    await every.stop();
    // Every send was acknowledged once the broker had it: settled, the rows are all there.
    const rows = await settledRows(tenant.orgId, 4);

    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
    const bySubject = (subject: string) => rows.filter((row) => row.subject === subject);
    expect(bySubject('cus_1').length).toBe(bySubject('cus_2').length);
    expect(bySubject('cus_1').length + bySubject('cus_2').length).toBe(rows.length);
    // One reading per tenant per interval (two polls that fell in one second under load are one
    // reading): as many times as readings, each a whole second, at least two of them.
    expect(new Set(bySubject('cus_1').map((row) => row.time_ms)).size).toBe(bySubject('cus_1').length);
    expect(bySubject('cus_1').length).toBeGreaterThanOrEqual(2);
    for (const row of rows) {
      expect(row).toMatchObject({ source: 'gauge-poller', type: 'gauge.reading' });
      expect(Number(row.time_ms) % 1000).toBe(0);
    }
    expect(bySubject('cus_1')[0]?.data).toBe('{"gauge":"seats","value":12}');
    expect(bySubject('cus_2')[0]?.data).toBe('{"gauge":"seats","value":3.250000000000000001}');

    const letters = jsonLines(join(dir, 'dead-letter-1s.jsonl'));
    expect(letters.length).toBeGreaterThanOrEqual(3);
    expect(letters[0]).toMatchObject({ input: { reading: { seats: 1 } }, reason: expect.stringContaining('no subject at id') });
  });

  it('stores a reading once when the poller restarts within the same interval', async () => {
    const tenant = await createTenant();
    // A day: both runs poll at start, inside the same interval unless midnight UTC falls between them.
    const first = await poller(tenant, '24h');
    await eventually(async () => ((await first.counter('output_sent', 'collector')) >= 2 ? true : undefined), 'the first poll to be sent');
    await first.stop();
    const pollsBefore = polls;
    const second = await poller(tenant, '24h');
    await eventually(async () => ((await second.counter('output_sent', 'collector')) >= 2 ? true : undefined), 'the second poll to be sent');
    expect(polls).toBeGreaterThan(pollsBefore);
    const rows = await settledRows(tenant.orgId, 2);
    const intervals = new Set(rows.map((row) => row.time_ms)).size;
    expect(rows).toHaveLength(2 * intervals);
    expect(new Set(rows.map((row) => `${row.subject} ${row.time_ms}`)).size).toBe(rows.length);
  });
});
