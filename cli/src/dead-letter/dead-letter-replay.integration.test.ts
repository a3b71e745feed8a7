import { randomBytes } from 'node:crypto';
import { Partitioners, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_REPLAY_HEADERS, deadLetterMessage, eventMessageKey } from '@polaris/shared/contracts';
import { loadOperatorConfig } from '../config';
import { polaris } from '../test-support/operator-cli';
import { readDeadLetters } from './dead-letter';
import { listDeadLetters } from './dead-letter-list';
import { replayDeadLetters } from './dead-letter-replay';
import { showDeadLetters } from './dead-letter-show';
import { headerText, operatorKafka, readRanges, watermarks } from './kafka-reader';

// Real Kafka (the local stack), with topics of this run only, deleted at the end.
const connection = loadOperatorConfig().kafka;
const kafka = operatorKafka(connection);
const run = randomBytes(4).toString('hex');
const topic = `test-dlreplay-${run}`;
const dlq = `test-dlreplay-${run}-dlq`;
let admin: Admin;

const ORG_A = `org-a-${run}`;
const ORG_B = `org-b-${run}`;
const eventValue = (org: string, id: string) => Buffer.from(JSON.stringify({ v: 1, namespace: org, receivedAt: 1, event: { id, source: 's', type: 't', subject: 'x', timeMs: 1, data: { n: 1 } } }));
const binary = Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x22, 0x80, 0x0a]);

/** The dead letters written at the start, in DLQ partition 0, offsets 0 to 3. */
const originals = [
  { key: Buffer.from(eventMessageKey(ORG_A, { source: 's', id: 'a1' })), value: eventValue(ORG_A, 'a1'), reason: 'store_rejected', offset: '10', headers: { traceparent: 'tp-1' } },
  { key: Buffer.from(eventMessageKey(ORG_A, { source: 's', id: 'a2' })), value: eventValue(ORG_A, 'a2'), reason: 'store_rejected', offset: '11', headers: {} },
  { key: Buffer.from(eventMessageKey(ORG_B, { source: 's', id: 'b1' })), value: eventValue(ORG_B, 'b1'), reason: 'store_rejected', offset: '12', headers: {} },
  { key: null, value: binary, reason: 'invalid_json', offset: '13', headers: { 'x-binary': Buffer.from([1, 2, 255]) } },
];

async function topicMessages(name: string) {
  const ranges = [...(await watermarks(admin, name))].map(([partition, { low, high }]) => ({ partition, from: low, to: high }));
  return readRanges(kafka, name, ranges);
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 3, replicationFactor: 1 },
      { topic: dlq, numPartitions: 2, replicationFactor: 1 },
    ],
  });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({
    topic: dlq,
    acks: -1,
    messages: originals.map((o) => ({
      partition: 0,
      ...deadLetterMessage({ topic, partition: 1, offset: o.offset, key: o.key, value: o.value, headers: o.headers, reason: o.reason, detail: `why ${o.offset}` }),
    })),
  });
  await producer.disconnect();
});

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
  await admin.disconnect();
});

describe('dead-letter list, show and replay', () => {
  it('lists with the organization and filters by reason and organization', async () => {
    const all = await listDeadLetters({ connection, dlq, limit: 10 });
    expect(all.map((l) => `${l.partition}/${l.offset}`).sort()).toEqual(['0/0', '0/1', '0/2', '0/3']);
    expect(all.find((l) => l.offset === '3')).toMatchObject({ reason: 'invalid_json', organizationId: null, source: `${topic}/1/13`, size: binary.length, replays: 0 });
    expect((await listDeadLetters({ connection, dlq, limit: 10, organizationId: ORG_A })).map((l) => l.offset).sort()).toEqual(['0', '1']);
    expect((await listDeadLetters({ connection, dlq, limit: 10, reason: 'invalid_json' })).map((l) => l.offset)).toEqual(['3']);
  });

  it('shows a letter whole: the exact original bytes, key and headers, without the dead-letter headers', async () => {
    const [poison] = await showDeadLetters({ connection, dlq, ids: [{ partition: 0, offset: 3n }] });
    expect(poison?.value?.equals(binary)).toBe(true);
    expect(poison?.key).toBeNull();
    expect(Object.keys(poison?.headers ?? {})).toEqual(['x-binary']);
    expect(poison).toMatchObject({ reason: 'invalid_json', detail: 'why 13', source: `${topic}/1/13` });
    await expect(showDeadLetters({ connection, dlq, ids: [{ partition: 0, offset: 0n }], organizationId: ORG_B })).rejects.toThrow(/not of organization/);
    await expect(showDeadLetters({ connection, dlq, ids: [{ partition: 0, offset: 9n }] })).rejects.toThrow(/no dead letter 0\/9: partition 0 .* holds offsets 0 to 3/);
  });

  it('the CLI (and its dead-letter alias) prints the bytes as base64 and a preview', async () => {
    const shown = await polaris('dlq', 'show', '--dlq', dlq, '0/3', '--json');
    expect(shown.exitCode, shown.stderr).toBe(0);
    const [letter] = JSON.parse(shown.stdout) as Array<{ valueBase64: string; headersBase64: Record<string, string[]> }>;
    expect(Buffer.from(letter?.valueBase64 ?? '', 'base64').equals(binary)).toBe(true);
    const text = await polaris('dead-letter', 'show', '--dlq', dlq, '0/0');
    expect(text.stdout).toContain(`base64:    ${originals[0]?.value.toString('base64')}`);
    expect(text.stdout).toContain('traceparent: tp-1');
    expect(text.stdout).toContain(`org:       ${ORG_A}`);
    const bad = await polaris('dlq', 'show', '--dlq', dlq, 'nope');
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/<partition>\/<offset>/);
  });

  it('refuses to replay without a selection', async () => {
    await expect(replayDeadLetters({ connection, dlq, topic, selection: {}, operator: 'test' })).rejects.toThrow(/say which dead letters/);
  });

  it('replays one letter byte for byte under its key, records it, and skips it the second time', async () => {
    const request = { connection, dlq, topic, selection: { ids: [{ partition: 0, offset: 0n }] }, operator: 'tester@host' };
    const first = await replayDeadLetters(request);
    expect(first.replayed).toHaveLength(1);
    expect(first.alreadyReplayed).toEqual([]);
    const to = first.replayed[0]?.to;

    const copies = await topicMessages(topic);
    expect(copies).toHaveLength(1);
    const copy = copies[0];
    expect(copy?.value?.equals(originals[0]?.value as Buffer)).toBe(true);
    expect(copy?.key?.equals(originals[0]?.key as Buffer)).toBe(true);
    expect({ partition: copy?.partition, offset: copy?.offset.toString() }).toEqual(to);
    expect(headerText(copy?.headers ?? {}, 'traceparent')).toBe('tp-1');
    expect(headerText(copy?.headers ?? {}, DEAD_LETTER_REPLAY_HEADERS.replayOf)).toBe('0/0');
    expect(headerText(copy?.headers ?? {}, 'polaris-dlq-reason')).toBeUndefined();

    const [letter] = await readDeadLetters(kafka, dlq, [{ partition: 0, from: 0n, to: (await watermarks(admin, dlq)).get(0)?.high ?? 0n }]);
    expect(letter?.replays).toEqual([expect.objectContaining({ to: `${topic}/${to?.partition}/${to?.offset}`, by: 'tester@host' })]);

    const second = await replayDeadLetters(request);
    expect(second).toEqual({ replayed: [], alreadyReplayed: [{ partition: 0, offset: 0n }] });
    expect(await topicMessages(topic)).toHaveLength(1);
    // A replay record is not a dead letter: the list still shows four, one of them replayed once.
    const listed = await listDeadLetters({ connection, dlq, limit: 10 });
    expect(listed).toHaveLength(4);
    expect(listed.find((l) => l.offset === '0')?.replays).toBe(1);

    const again = await replayDeadLetters({ ...request, again: true });
    expect(again.replayed).toHaveLength(1);
    const both = await topicMessages(topic);
    expect(both).toHaveLength(2);
    expect(both[1]?.value?.equals(both[0]?.value as Buffer) && both[0]?.partition === both[1]?.partition).toBe(true);
  });

  it('replays by reason within one organization; a dry run sends nothing', async () => {
    const selection = { reason: 'store_rejected', organizationId: ORG_A };
    const dry = await replayDeadLetters({ connection, dlq, topic, selection, dryRun: true, operator: 't' });
    expect(dry.replayed.map((r) => r.letter)).toEqual([{ partition: 0, offset: 1n }]);
    expect(dry.alreadyReplayed).toEqual([{ partition: 0, offset: 0n }]);
    expect(await topicMessages(topic)).toHaveLength(2);

    const done = await replayDeadLetters({ connection, dlq, topic, selection, operator: 't' });
    expect(done.replayed.map((r) => r.letter)).toEqual([{ partition: 0, offset: 1n }]);
    const sent = await topicMessages(topic);
    expect(sent).toHaveLength(3);
    expect(sent.filter((m) => m.value?.equals(originals[1]?.value as Buffer))).toHaveLength(1);
    // ORG_B's letter of the same reason was not touched.
    expect(sent.some((m) => m.value?.equals(originals[2]?.value as Buffer))).toBe(false);
  });

  it('a keyless letter goes back to its source partition', async () => {
    const done = await replayDeadLetters({ connection, dlq, topic, selection: { ids: [{ partition: 0, offset: 3n }] }, operator: 't' });
    expect(done.replayed[0]?.to?.partition).toBe(1);
    const sent = await topicMessages(topic);
    expect(sent.find((m) => m.value?.equals(binary))?.partition).toBe(1);
  });
});
