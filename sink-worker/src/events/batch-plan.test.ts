import { describe, expect, it } from 'vitest';
import { encodeEventMessage } from '@polaris/shared/contracts';
import { exceedsDepth, MAX_SERIALIZABLE_DEPTH, planBatch } from './batch-plan';
import { dedupWindow, payloadFingerprint } from './dedup-window';

const ns = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const event = (id: string, source = 'svc') => ({
  id, source, type: 'api.request', subject: 'cust-1', timeMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678), data: { n: 1 },
});

describe('planBatch', () => {
  it('maps a message to a row with millisecond time and the offset as version', () => {
    const plan = planBatch([{ offset: '41', value: encodeEventMessage(ns, event('a'), Date.UTC(2026, 0, 2, 3, 4, 6)) }]);
    expect(plan.deadLetters).toEqual([]);
    expect(plan.candidates[0]?.row).toEqual({
      namespace: ns, id: 'a', source: 'svc', type: 'api.request', subject: 'cust-1',
      time: '2026-01-02 03:04:05', time_ms: Date.UTC(2026, 0, 2, 3, 4, 5, 678), data: '{"n":1}',
      ingested_at: '2026-01-02 03:04:06', ingest_seq: '41',
      payload_fingerprint: payloadFingerprint('api.request', 'cust-1', Date.UTC(2026, 0, 2, 3, 4, 5, 678), '{"n":1}'),
    });
    expect(plan.candidates[0]?.receivedAtMs).toBe(Date.UTC(2026, 0, 2, 3, 4, 6));
  });

  it('dead-letters an event older than the dedup window allows (only a message that bypassed the collector is)', () => {
    const received = Date.UTC(2026, 3, 1);
    const old = { ...event('old'), timeMs: received - 36 * 86_400_000 - 1 };
    const plan = planBatch([{ offset: '1', value: encodeEventMessage(ns, old, received) }, { offset: '2', value: encodeEventMessage(ns, { ...event('ok'), timeMs: received - 35 * 86_400_000 }, received) }], { dedup: dedupWindow(37) });
    expect(plan.candidates.map((c) => c.row.id)).toEqual(['ok']);
    expect(plan.deadLetters.map((d) => [d.message.offset, d.reason])).toEqual([['1', 'outside_dedup_window']]);
    // Without a window (tests of the plan alone) nothing is judged by age.
    expect(planBatch([{ offset: '1', value: encodeEventMessage(ns, old, received) }]).candidates).toHaveLength(1);
  });

  it('keeps the first copy of an identity and counts the rest', () => {
    const plan = planBatch([
      { offset: '1', value: encodeEventMessage(ns, event('a'), 0) },
      { offset: '2', value: encodeEventMessage(ns, event('a'), 0) },
      { offset: '3', value: encodeEventMessage(ns, event('a', 'other-source'), 0) },
    ]);
    expect(plan.candidates.map((c) => c.row.ingest_seq)).toEqual(['1', '3']);
    expect(plan.duplicatesInBatch).toBe(1);
  });

  it('dead-letters what can never be stored, with the reason', () => {
    const plan = planBatch([
      { offset: '1', value: Buffer.from('{not json') },
      { offset: '2', value: Buffer.from(JSON.stringify({ v: 1, namespace: ns })) },
      { offset: '3', value: null },
    ]);
    expect(plan.candidates).toEqual([]);
    expect(plan.deadLetters.map((d) => d.reason)).toEqual(['invalid_json', 'invalid_schema', 'invalid_json']);
  });

  it('dead-letters data nested too deep to serialize, and the batch goes on', () => {
    // Built as text: recursion would overflow here too. 5,000 levels overflowed JSON.stringify.
    const deep = `{"v":1,"namespace":"${ns}","receivedAt":0,"event":{"id":"deep","source":"svc","type":"t","subject":"s","timeMs":0,"data":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}}`;
    const plan = planBatch([
      { offset: '1', value: Buffer.from(deep) },
      { offset: '2', value: encodeEventMessage(ns, event('b'), 0) },
    ]);
    expect(plan.deadLetters.map((d) => [d.message.offset, d.reason])).toEqual([['1', expect.stringMatching(/^invalid_schema$|^handler_error$/)]]);
    expect(plan.candidates.map((c) => c.row.id)).toEqual(['b']);
  });

  it('keeps the message with each candidate, for the dead-letter topic', () => {
    const m = { offset: '3', key: Buffer.from('k'), value: encodeEventMessage(ns, event('a'), 0), headers: { h: 'v' } };
    expect(planBatch([m]).candidates[0]?.message).toBe(m);
  });
});

describe('exceedsDepth', () => {
  it('counts objects and arrays, not scalars', () => {
    expect(exceedsDepth({ a: 1 }, 1)).toBe(false);
    expect(exceedsDepth({ a: { b: 1 } }, 1)).toBe(true);
    expect(exceedsDepth({ a: [[1]] }, 3)).toBe(false);
    expect(exceedsDepth({ a: [[1]] }, 2)).toBe(true);
    expect(exceedsDepth('x', 0)).toBe(false);
  });

  it('handles any depth without recursion', () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = { a: v };
    expect(exceedsDepth(v, MAX_SERIALIZABLE_DEPTH)).toBe(true);
  });
});

