import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { eventMessageKey } from '@polaris/shared/contracts';
import { KeyHashPartitioner, murmur2 } from './key-partitioner';

const partitions = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));

describe('murmur2', () => {
  it("gives the Java client's values (Kafka's UtilsTest)", () => {
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of cases) expect(murmur2(Buffer.from(key))).toBe(hash);
  });
});

describe('KeyHashPartitioner', () => {
  it("puts every key on the DefaultPartitioner's partition, for any key length and partition count", () => {
    const ours = KeyHashPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys: Array<string | Buffer> = [
      ...Array.from({ length: 520 }, (_, i) => randomBytes(i % 130)),
      ...Array.from({ length: 200 }, (_, i) => eventMessageKey('6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11', { source: `svc-é-${i}`, id: `ev-${i}-😀` })),
    ];
    for (const count of [1, 6, 7, 64, 997]) {
      const partitionMetadata = partitions(count);
      for (const key of keys) {
        const args = { topic: 't', partitionMetadata, message: { key, value: null } };
        expect(ours(args)).toBe(theirs(args));
      }
    }
  });

  it('keeps an explicit partition, and spreads keyless messages as the DefaultPartitioner does', () => {
    const partitioner = KeyHashPartitioner();
    const partitionMetadata = partitions(6);
    expect(partitioner({ topic: 't', partitionMetadata, message: { key: 'k', value: null, partition: 4 } })).toBe(4);
    const keyless = Array.from({ length: 12 }, () => partitioner({ topic: 't', partitionMetadata, message: { value: 'v' } }));
    expect(new Set(keyless).size).toBe(6);
  });
});
