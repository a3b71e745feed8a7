import { appendFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { benthosBinary } from './support/benthos';
import { jsonLines, runConnect, type RunningConnect } from './support/connect';
import { storedEvents, type StoredEvent } from './support/events-store';
import { eventually } from './support/http';
import { collectorUrl } from './support/ports';
import { createTenant, type Tenant } from './support/tenants';
import { groupReached, topicEnds } from './support/topics';

/**
 * collector/connect/access-log-tailer.yaml, run for real by the Benthos binary against the
 * running collector: lines appended to an access log become `api_call` events in ClickHouse, and
 * neither a restart (which reads the file again from its first line) nor a rotation followed by
 * a restart stores any line twice.
 */

let binary: string;
let tenant: Tenant;
let dir: string;
let log: string;
let tailer: RunningConnect | undefined;
/** Every line with a user written to any generation of the log: the events expected. */
let billable = 0;
let written = 0;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const clf = (d: Date) =>
  `${String(d.getUTCDate()).padStart(2, '0')}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${d.toISOString().slice(11, 19)} +0000`;

/**
 * n combined-format lines with nginx's $request_time. Every 7th is the same request as the
 * others of its kind (identical lines when written within the same second: distinct requests,
 * which only the line number tells apart); every other 10th has no user ("-").
 */
function requestLines(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    written++;
    const time = clf(new Date());
    if (written % 7 === 0) {
      billable++;
      lines.push(`10.0.0.7 - user-7 [${time}] "GET /v1/same?token=secret HTTP/1.1" 200 7 "-" "e2e/1.0" 0.007\n`);
      continue;
    }
    const user = written % 10 === 0 ? '-' : `user-${written % 3}`;
    if (user !== '-') billable++;
    lines.push(`10.0.0.${written % 250} - ${user} [${time}] "GET /v1/items/${written}?token=secret HTTP/1.1" 200 ${written} "-" "e2e/1.0" 0.0${written % 10}5\n`);
  }
  return lines.join('');
}

function start(): Promise<RunningConnect> {
  return runConnect(binary, 'access-log-tailer', {
    ACCESS_LOG_PATH: log,
    ACCESS_LOG_SOURCE: 'e2e-access-log',
    POLARIS_COLLECTOR_URL: collectorUrl,
    POLARIS_API_KEY: tenant.apiKey,
    DEAD_LETTER_PATH: join(dir, 'dead-letter.jsonl'),
  });
}

/**
 * Waits until this tailer has delivered `sent` events (what it read since it started), then until
 * the sink has consumed everything on the topic, and returns every stored row: a duplicate
 * stored by then would show.
 */
async function settled(running: RunningConnect, sent: number, stored: number): Promise<StoredEvent[]> {
  await eventually(async () => ((await running.counter('output_sent', 'collector')) >= sent ? true : undefined), `the tailer to send ${sent} events`, 60_000);
  await eventually(async () => ((await storedEvents(tenant.orgId)).length >= stored ? true : undefined), `${stored} events to be stored`, 60_000);
  const ends = await topicEnds(EVENTS_TOPIC);
  await eventually(() => groupReached('polaris-sink', EVENTS_TOPIC, ends), 'the sink to consume every copy', 60_000);
  return storedEvents(tenant.orgId);
}

function expectOnce(rows: StoredEvent[], expected: number): void {
  expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
  expect(rows).toHaveLength(expected);
}

beforeAll(async () => {
  [binary, tenant] = await Promise.all([benthosBinary(), createTenant()]);
  dir = mkdtempSync(join(tmpdir(), 'polaris-access-log-'));
  log = join(dir, 'access.log');
  writeFileSync(log, requestLines(20));
}, 600_000);

afterAll(async () => {
  await tailer?.stop();
});

describe('the access-log tailer, against the running collector', () => {
  it('turns the lines there and the lines appended into api_call events, skipping lines without a user', async () => {
    tailer = await start();
    appendFileSync(log, requestLines(30));
    appendFileSync(log, 'this is not an access-log line\n');
    const rows = await settled(tailer, billable, billable);
    expectOnce(rows, billable);

    const [sample] = rows.filter((row) => row.data.includes('"/v1/items/1"'));
    expect(sample).toMatchObject({ source: 'e2e-access-log', type: 'api_call', subject: 'user-1' });
    // The path without its query string; the latency in whole milliseconds from "0.015" seconds.
    expect(JSON.parse(sample?.data ?? '{}')).toEqual({ method: 'GET', path: '/v1/items/1', status: 200, bytes: 1, latency_ms: 15 });
    expect(rows.filter((row) => row.data.includes('"/v1/same"')).length).toBe(7);

    const letters = await eventually(async () => (jsonLines(join(dir, 'dead-letter.jsonl')).length > 0 ? jsonLines(join(dir, 'dead-letter.jsonl')) : undefined), 'the dead letter');
    expect(letters).toEqual([expect.objectContaining({ input: '51 this is not an access-log line', reason: expect.stringContaining('not an access-log line') })]);
  });

  it('after a restart reads the file again from its first line and stores no line twice', async () => {
    await tailer?.stop();
    appendFileSync(log, requestLines(25));
    tailer = await start();
    // This run sends every billable line of the file: the old ones again, and the new ones.
    const rows = await settled(tailer, billable, billable);
    expectOnce(rows, billable);
  });

  it('after a rotation, and a restart on the new file, stores no line twice', async () => {
    renameSync(log, `${log}.1`);
    const beforeRotation = billable;
    writeFileSync(log, requestLines(15));
    await settled(tailer as RunningConnect, 0, billable);
    appendFileSync(log, requestLines(10));
    await settled(tailer as RunningConnect, 0, billable);

    await tailer?.stop();
    appendFileSync(log, requestLines(5));
    tailer = await start();
    // The new run reads only the new file, numbered from its first line as the old run did after the rotation.
    const rows = await settled(tailer, billable - beforeRotation, billable);
    expectOnce(rows, billable);
  });
});
