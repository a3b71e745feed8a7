import type { BackfillRun } from '@polaris/postgres';
import { describe, expect, it } from 'vitest';
import { lineProgress, waitForBackfill } from './backfill-wait';

const base: BackfillRun = {
  id: '1',
  organizationId: '00000000-0000-4000-8000-000000000001',
  meterSlug: 'tokens',
  meterVersionId: '3',
  meterVersion: 1,
  state: 'queued',
  fromMs: null,
  toMs: null,
  eventsDone: 0,
  eventsTotal: 0,
  claimedBy: null,
  claimedUntil: null,
  attempts: 1,
  error: null,
  supersededBy: null,
  createdAt: new Date(0),
  startedAt: null,
  finishedAt: null,
};

/** A run read back as a worker moves it along: each read returns the next state. */
function script(states: Array<Partial<BackfillRun>>) {
  const reads: string[] = [];
  const read = async (id: string) => {
    reads.push(id);
    return { ...base, ...states.shift() };
  };
  return { read, reads };
}

describe('waitForBackfill', () => {
  it('follows a run to completion, one line per change', async () => {
    const lines: string[] = [];
    const { read } = script([{ state: 'running', eventsTotal: 100 }, { state: 'running', eventsDone: 55, eventsTotal: 100 }, { state: 'completed', eventsDone: 100, eventsTotal: 100 }]);
    const done = await waitForBackfill(base, read, lineProgress((l) => lines.push(l)), 0);
    expect(done.state).toBe('completed');
    expect(lines).toEqual([
      'run 1 queued',
      expect.stringMatching(/^queued: a sink-worker/),
      'run 1 running 0/100 events (0%+)',
      'run 1 running 55/100 events (50%+)',
      'run 1 completed 100/100 events (100%+)',
    ]);
  });

  it('follows the run that took over from a superseded one', async () => {
    const lines: string[] = [];
    const { read, reads } = script([
      { state: 'superseded', supersededBy: '2', error: 'worker w1 stopped reporting; run 2 took over' },
      { id: '2', state: 'completed', attempts: 2 },
    ]);
    const done = await waitForBackfill({ ...base, state: 'running' }, read, lineProgress((l) => lines.push(l)), 0);
    expect(done).toMatchObject({ id: '2', state: 'completed' });
    expect(reads).toEqual(['1', '2']);
    expect(lines).toContain('run 1: worker w1 stopped reporting; run 2 took over; following run 2');
  });

  it('fails with the reason of a failed run', async () => {
    const { read } = script([{ state: 'failed', error: 'ClickHouse is down' }]);
    await expect(waitForBackfill({ ...base, state: 'running' }, read, lineProgress(() => undefined), 0)).rejects.toThrow(
      'backfill run 1 (whole history) failed: ClickHouse is down',
    );
  });
});
