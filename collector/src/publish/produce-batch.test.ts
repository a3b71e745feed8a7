import { describe, expect, it } from 'vitest';
import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { halves, isTooLarge, takeBatch, type PendingRequest, type SizedMessage } from './produce-batch';

const request = (name: string, sizes: number[]): PendingRequest => ({
  messages: sizes.map((bytes, i): SizedMessage => ({ message: { key: `${name}${i}`, value: null }, bytes })),
  next: 0,
  unacked: sizes.length,
  settled: false,
  resolve: () => undefined,
  reject: () => undefined,
});
const keys = (slices: ReturnType<typeof takeBatch>) => slices.map((s) => s.messages.map((m) => m.message.key));

describe('takeBatch', () => {
  it('takes whole requests while they fit, and cuts the one that does not between messages', () => {
    const queue = [request('a', [300, 300]), request('b', [300, 300, 300]), request('c', [10])];
    expect(keys(takeBatch(queue, 100, 1_000))).toEqual([['a0', 'a1'], ['b0']]);
    expect(queue.map((r) => r.next)).toEqual([1, 0]);
    expect(keys(takeBatch(queue, 100, 1_000))).toEqual([['b1', 'b2'], ['c0']]);
    expect(queue).toEqual([]);
  });

  it('sends a message larger than the byte limit alone, and respects the message count', () => {
    const queue = [request('a', [5_000, 10]), request('b', [1, 1, 1])];
    expect(keys(takeBatch(queue, 100, 1_000))).toEqual([['a0']]);
    expect(keys(takeBatch(queue, 2, 1_000))).toEqual([['a1'], ['b0']]);
  });
});

describe('halves', () => {
  it('splits by message count, cutting a slice where the middle falls', () => {
    const queue = [request('a', [1, 1, 1]), request('b', [1, 1])];
    const [first, second] = halves(takeBatch(queue, 100, 1_000));
    expect(keys(first)).toEqual([['a0', 'a1', 'a2']]);
    expect(keys(second)).toEqual([['b0', 'b1']]);
    const [x, y] = halves(takeBatch([request('c', [1, 1, 1, 1])], 100, 1_000));
    expect([keys(x), keys(y)]).toEqual([[['c0', 'c1']], [['c2', 'c3']]]);
  });
});

describe('isTooLarge', () => {
  const protocol = (type: string) => new KafkaJSProtocolError({ type, code: 0, message: type } as unknown as Error);
  it('knows the broker refusals for size, also when wrapped', () => {
    expect(isTooLarge(protocol('MESSAGE_TOO_LARGE'))).toBe(true);
    expect(isTooLarge(protocol('RECORD_LIST_TOO_LARGE'))).toBe(true);
    expect(isTooLarge(Object.assign(new KafkaJSNonRetriableError('x'), { cause: protocol('MESSAGE_TOO_LARGE') }))).toBe(true);
  });
  it('takes nothing else for one', () => {
    expect(isTooLarge(protocol('NOT_LEADER_FOR_PARTITION'))).toBe(false);
    expect(isTooLarge(new Error('Connection timeout'))).toBe(false);
    expect(isTooLarge(undefined)).toBe(false);
  });
});
