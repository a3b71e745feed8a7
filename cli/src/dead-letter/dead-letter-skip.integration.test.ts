import { randomBytes } from 'node:crypto';
import { Partitioners, type Admin, type Consumer, type IHeaders } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS } from '@polaris/shared/contracts';
import { loadOperatorConfig } from '../config';
import { polaris } from '../test-support/operator-cli';
import { skipMessage, type SkipRequest } from './dead-letter-skip';
import { operatorKafka, readRanges, watermarks } from './kafka-reader';

// Real Kafka (the local stack), with topics and groups of this run only, deleted at the end.
const connection = loadOperatorConfig().kafka;
const kafka = operatorKafka(connection);
const run = randomBytes(4).toString('hex');
const topic = `test-dlskip-${run}`;
const dlq = `test-dlskip-${run}-dlq`;
const groups: string[] = [];
const newGroup = (): string => {
  const group = `test-dlskip-${run}-${groups.length}`;
  groups.push(group);
  return group;
};
let admin: Admin;

// Partition 1 holds three messages; the one at offset 1 has binary bytes and headers.
const PARTITION = 1;
const poison = {
  key: Buffer.from('poison-key'),
  value: Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x22, 0x80, 0x0a]),
  headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x-binary': Buffer.from([1, 2, 255]) },
};

async function commit(group: string, offset: number): Promise<void> {
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: PARTITION, offset: String(offset) }] });
}

async function committed(group: string): Promise<Record<number, string>> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return Object.fromEntries((offsets?.partitions ?? []).map((p) => [p.partition, p.offset]));
}

async function dlqSize(): Promise<bigint> {
  return [...(await watermarks(admin, dlq)).values()].reduce((sum, m) => sum + m.high, 0n);
}

const request = (group: string, offset: number): SkipRequest => ({ connection, group, topic, dlq, partition: PARTITION, offset: String(offset) });

const header = (headers: IHeaders, name: string) => headers[name]?.toString();

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 2, replicationFactor: 1 },
      { topic: dlq, numPartitions: 1, replicationFactor: 1 },
    ],
  });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [
      { partition: PARTITION, key: 'k0', value: 'zero' },
      { partition: PARTITION, ...poison },
      { partition: PARTITION, key: 'k2', value: '{"secret-payload":"two"}' },
    ],
  });
  await producer.disconnect();
});

afterAll(async () => {
  await admin.deleteGroups(groups).catch(() => undefined);
  await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
  await admin.disconnect();
});

describe('dead-letter skip', () => {
  const group = newGroup();

  it('copies the message at the committed offset to the dead-letter topic, then commits offset + 1', async () => {
    await commit(group, 1);
    const done = await skipMessage({ ...request(group, 1), detail: 'poison pill, ticket OPS-42' });
    expect(done).toMatchObject({ group, topic, partition: PARTITION, offset: '1', committed: '2', reason: 'operator_skip', size: poison.value.length });
    expect(done.dlq.topic).toBe(dlq);

    const [copy] = await readRanges(kafka, dlq, [{ partition: done.dlq.partition, from: BigInt(done.dlq.offset), to: BigInt(done.dlq.offset) + 1n }]);
    expect(copy?.value?.equals(poison.value), 'the exact bytes').toBe(true);
    expect(copy?.key?.equals(poison.key)).toBe(true);
    const headers = copy?.headers ?? {};
    expect(header(headers, 'traceparent')).toBe(poison.headers.traceparent);
    expect((headers['x-binary'] as Buffer).equals(poison.headers['x-binary'])).toBe(true);
    expect(header(headers, DEAD_LETTER_HEADERS.reason)).toBe('operator_skip');
    expect(header(headers, DEAD_LETTER_HEADERS.detail)).toBe('poison pill, ticket OPS-42');
    expect(header(headers, DEAD_LETTER_HEADERS.source)).toBe(`${topic}/${PARTITION}/1`);
    expect(Date.parse(header(headers, DEAD_LETTER_HEADERS.at) ?? '')).not.toBeNaN();

    // Only that partition moved, by exactly one.
    expect(await committed(group)).toEqual({ 0: '-1', [PARTITION]: '2' });
  });

  it('refuses a second run: the committed offset is already past it, and writes no second copy', async () => {
    const before = await dlqSize();
    await expect(skipMessage(request(group, 1))).rejects.toThrow(/committed offset of group .* is 2, not 1.*already skipped/);
    expect(await dlqSize()).toBe(before);
    expect((await committed(group))[PARTITION]).toBe('2');
  });

  it('refuses when the committed offset is not the one given, so nothing else is skipped', async () => {
    const other = newGroup();
    await commit(other, 0);
    const before = await dlqSize();
    await expect(skipMessage(request(other, 1))).rejects.toThrow(/committed offset of group .* is 0, not 1/);
    expect(await dlqSize()).toBe(before);
    expect((await committed(other))[PARTITION]).toBe('0');

    await expect(skipMessage(request(newGroup(), 1))).rejects.toThrow(/has no committed offset/);
  });

  it('refuses an offset that holds no message', async () => {
    const atEnd = newGroup();
    await commit(atEnd, 3);
    const before = await dlqSize();
    await expect(skipMessage(request(atEnd, 3))).rejects.toThrow(/no message at offset 3 .*holds offsets 0 to 2/);
    expect(await dlqSize()).toBe(before);
    expect((await committed(atEnd))[PARTITION]).toBe('3');
    await expect(skipMessage({ ...request(atEnd, 0), partition: 7 })).rejects.toThrow(/has no partition 7/);
    await expect(skipMessage({ ...request(atEnd, 0), topic: `${topic}-missing` })).rejects.toThrow(/does not exist/);
  });

  it('refuses while a consumer of the group runs, and says to stop the sink-workers first', async () => {
    const busy = newGroup();
    await commit(busy, 1);
    const consumer: Consumer = kafka.consumer({ groupId: busy });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    // Never commits: it only holds a membership.
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await joined;
    try {
      const before = await dlqSize();
      await expect(skipMessage(request(busy, 1))).rejects.toThrow(/1 active member.*Stop the sink-workers or scale them to 0 first/);
      expect(await dlqSize()).toBe(before);
    } finally {
      await consumer.disconnect();
    }
    expect((await committed(busy))[PARTITION]).toBe('1');
  });
});

describe('the polaris CLI', () => {
  it('dead-letter skip prints what it did and logs a JSON line; dead-letter list shows it without contents', async () => {
    const group = newGroup();
    await commit(group, 2);
    const skip = await polaris('dead-letter', 'skip', '--group', group, '--topic', topic, '--dlq', dlq, '--partition', String(PARTITION), '--offset', '2', '--reason', 'schema drift');
    expect(skip.exitCode, skip.stderr).toBe(0);
    expect(skip.stdout).toMatch(new RegExp(`skipped ${topic} partition 1 offset 2`));
    expect(skip.stdout).toMatch(new RegExp(`copy: +${dlq} partition 0 offset \\d+`));
    const log = JSON.parse(skip.stderr.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(log).toMatchObject({ level: 'info', msg: 'dead-letter skip', group, topic, partition: 1, offset: '2', committed: '3', reason: 'operator_skip', detail: 'schema drift' });

    const again = await polaris('dead-letter', 'skip', '--group', group, '--topic', topic, '--dlq', dlq, '--partition', '1', '--offset', '2');
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/is 3, not 2/);

    const list = await polaris('dead-letter', 'list', '--dlq', dlq, '--json');
    expect(list.exitCode, list.stderr).toBe(0);
    const letters = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    expect(letters[0]).toMatchObject({ source: `${topic}/1/2`, reason: 'operator_skip', detail: 'schema drift', size: 24 });
    expect(letters.map((l) => l.source)).toContain(`${topic}/1/1`);
    expect(Object.keys(letters[0] ?? {}).sort()).toEqual(['at', 'detail', 'offset', 'organizationId', 'partition', 'reason', 'replays', 'size', 'source']);
    const text = await polaris('dead-letter', 'list', '--dlq', dlq, '--limit', '1');
    expect(text.stdout).toMatch(/operator_skip/);
    expect(text.stdout.split('\n')).toHaveLength(2);
    expect(list.stdout + text.stdout).not.toMatch(/secret-payload|poison-key/);
  });
});
