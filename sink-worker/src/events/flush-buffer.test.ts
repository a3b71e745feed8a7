import { describe, expect, it } from 'vitest';
import { encodeEventMessage } from '@polaris/shared/contracts';
import { FlushBuffer, flushConfigSchema, flushLimits } from './flush-buffer';

const ns = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const msg = (offset: number, id: string, n = 0) => ({
  offset: String(offset),
  value: encodeEventMessage(ns, { id, source: 'svc', type: 't', subject: 's', timeMs: 0, data: { n } }, 0),
  timestamp: String(1_000 + offset),
});

describe('FlushBuffer', () => {
  it('is full at the count limit or the bytes limit, and due at the time limit counted from the first message gathered', () => {
    let now = 0;
    const byCount = new FlushBuffer({ maxEvents: 3, maxBytes: 1 << 20, maxMs: 250 }, () => now);
    expect(byCount.dueInMs()).toBeUndefined();
    byCount.add({ topic: 'e', partition: 0, messages: [msg(0, 'a'), msg(1, 'b')] }, 1, {});
    now = 100;
    byCount.add({ topic: 'e', partition: 1, messages: [] }, 1, {});
    expect(byCount.full).toBe(false);
    expect(byCount.dueInMs()).toBe(150);
    byCount.add({ topic: 'e', partition: 1, messages: [msg(5, 'c')] }, 1, {});
    expect(byCount.full).toBe(true);
    now = 400;
    expect(byCount.dueInMs()).toBe(0);

    const byBytes = new FlushBuffer({ maxEvents: 1_000, maxBytes: 1024, maxMs: 250 });
    for (let i = 0; byBytes.full === false; i++) byBytes.add({ topic: 'e', partition: 0, messages: [msg(i, `id-${i}`)] }, 1, {});
    expect(byBytes.take().bytes).toBeGreaterThanOrEqual(1024);
  });

  it('plans each partition across its broker batches: a copy in a later batch is a duplicate, offsets span all of them', () => {
    const buffer = new FlushBuffer({ maxEvents: 100, maxBytes: 1 << 20, maxMs: 250 });
    buffer.add({ topic: 'e', partition: 2, messages: [msg(10, 'a'), msg(11, 'b')] }, 7, {});
    buffer.add({ topic: 'e', partition: 3, messages: [msg(4, 'a')] }, 7, {});
    buffer.add({ topic: 'e', partition: 2, messages: [msg(12, 'a'), msg(13, 'b', 9)] }, 7, {});
    const flush = buffer.take();
    expect(buffer.isEmpty).toBe(true);
    expect(flush.generation).toBe(7);
    expect(flush.messages).toBe(5);
    const p2 = flush.partitions.find((p) => p.partition === 2);
    expect(p2?.plan.candidates.map((c) => [c.row.id, c.partition])).toEqual([['a', 2], ['b', 2]]);
    expect(p2?.plan.duplicatesInBatch).toBe(1);
    expect(p2?.plan.deadLetters.map((d) => [d.reason, d.message.offset])).toEqual([['conflicting_duplicate', '13']]);
    expect([p2?.firstOffset, p2?.nextOffset, p2?.firstMessageTimestampMs]).toEqual(['10', '14', 1_010]);
    // Another partition is planned apart: the same id there is its own candidate (another namespace would be, here it is a test).
    expect(flush.partitions.find((p) => p.partition === 3)?.plan.candidates).toHaveLength(1);
  });

  it('reads its limits from SINK_FLUSH_*, with measured defaults', () => {
    expect(flushLimits(flushConfigSchema.parse({}))).toEqual({ maxEvents: 20_000, maxBytes: 16 * 1024 * 1024, maxMs: 250 });
    expect(flushConfigSchema.safeParse({ SINK_FLUSH_MAX_EVENTS: '0' }).error?.issues[0]?.path).toEqual(['SINK_FLUSH_MAX_EVENTS']);
  });
});
