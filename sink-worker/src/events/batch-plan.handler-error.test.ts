import { describe, expect, it, vi } from 'vitest';
import { encodeEventMessage } from '@polaris/shared/contracts';
import { planBatch } from './batch-plan';

// A decoder with a bug: it throws for one message. The batch must go on without it.
vi.mock('./event-message.decoder', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./event-message.decoder')>();
  return {
    ...actual,
    decodeEventMessage: (value: Buffer | null) => {
      if (value?.toString() === 'boom') throw new TypeError('decoder bug');
      return actual.decodeEventMessage(value);
    },
  };
});

const ns = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const event = (id: string) => ({ id, source: 'svc', type: 't', subject: 's', timeMs: 0, data: {} });

describe('planBatch when handling one message throws', () => {
  it('makes that message a dead letter (handler_error) and plans the rest', () => {
    const plan = planBatch([
      { offset: '6', value: encodeEventMessage(ns, event('a'), 0) },
      { offset: '7', value: Buffer.from('boom'), key: 'k' },
      { offset: '8', value: encodeEventMessage(ns, event('b'), 0) },
    ]);
    expect(plan.deadLetters).toEqual([
      { message: { offset: '7', value: Buffer.from('boom'), key: 'k' }, reason: 'handler_error', detail: 'TypeError: decoder bug' },
    ]);
    expect(plan.candidates.map((c) => c.row.ingest_seq)).toEqual(['6', '8']);
  });
});
