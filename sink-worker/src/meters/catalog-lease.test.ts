import { describe, expect, it } from 'vitest';
import { CatalogLease, type CatalogSync } from './catalog-lease';

const sumTokens = {
  organizationId: 'org-a',
  meterSlug: 'tokens',
  meterVersionId: '7',
  catalogRevision: '3',
  definition: { eventType: 'llm', aggregation: 'SUM' as const, valuePath: '$.tokens', dimensions: [] },
};

function fakeSync(answers: CatalogSync[]) {
  const calls: number[] = [];
  let i = 0;
  return {
    calls,
    sync: async () => {
      calls.push(i);
      const answer = answers[Math.min(i, answers.length - 1)];
      i++;
      if (!answer) throw new Error('catalog unavailable');
      return answer;
    },
  };
}

describe('CatalogLease', () => {
  it('syncs once and reuses the snapshot while the lease has more than the margin left', async () => {
    let now = 1_000;
    const { sync, calls } = fakeSync([{ revision: '3', leaseTtlMs: 30_000, versions: [sumTokens] }]);
    const lease = new CatalogLease({ sync, safetyMarginMs: 10_000, now: () => now });
    const first = await lease.leased();
    expect(first.metersFor('org-a', 'llm').map((m) => m.meterVersionId)).toEqual(['7']);
    now += 19_999;
    await lease.leased();
    expect(calls).toHaveLength(1);
    now += 1; // 20 s after the sync was sent: inside the margin, so it re-syncs before stamping
    await lease.leased();
    expect(calls).toHaveLength(2);
  });

  it('refuses to hand out a snapshot once the lease ran out and the service is down', async () => {
    let now = 0;
    let up = true;
    const lease = new CatalogLease({
      sync: async () => {
        if (!up) throw new Error('catalog unavailable');
        return { revision: '1', leaseTtlMs: 30_000, versions: [] };
      },
      safetyMarginMs: 10_000,
      now: () => now,
    });
    await lease.leased();
    up = false;
    now = 25_000;
    await expect(lease.leased()).rejects.toThrow('catalog unavailable');
    expect(lease.isValid()).toBe(false);
  });

  it('measures the deadline from when the sync was sent, not when it answered', async () => {
    let now = 0;
    const lease = new CatalogLease({
      sync: async () => {
        now += 15_000; // a slow answer eats into the lease
        return { revision: '1', leaseTtlMs: 30_000, versions: [] };
      },
      safetyMarginMs: 10_000,
      now: () => now,
    });
    await lease.leased();
    now += 5_000; // 20 s after sending
    expect(lease.isValid()).toBe(false);
  });

  it('keeps the newer snapshot when an older revision answers later', async () => {
    const { sync } = fakeSync([
      { revision: '5', leaseTtlMs: 30_000, versions: [sumTokens] },
      { revision: '4', leaseTtlMs: 30_000, versions: [] },
    ]);
    const lease = new CatalogLease({ sync, safetyMarginMs: 1_000, now: () => 0 });
    await lease.refresh();
    const second = await lease.refresh();
    expect(second.revision).toBe('5');
    expect(second.versionCount).toBe(1);
  });

  it('shares one call between concurrent callers', async () => {
    const { sync, calls } = fakeSync([{ revision: '1', leaseTtlMs: 30_000, versions: [] }]);
    const lease = new CatalogLease({ sync, safetyMarginMs: 1_000, now: () => 0 });
    await Promise.all([lease.leased(), lease.leased(), lease.leased()]);
    expect(calls).toHaveLength(1);
  });

  it('refuses a lease shorter than its own safety margin', async () => {
    const { sync } = fakeSync([{ revision: '1', leaseTtlMs: 5_000, versions: [] }]);
    const lease = new CatalogLease({ sync, safetyMarginMs: 10_000, now: () => 0 });
    await expect(lease.leased()).rejects.toThrow('not longer than');
  });

  it('keeps the lease on the oldest revision stamped on an insert still in flight, until it is released', async () => {
    const sent: Array<string | undefined> = [];
    let revision = 3;
    const lease = new CatalogLease({
      sync: async (holding) => {
        sent.push(holding);
        return { revision: String(revision), leaseTtlMs: 30_000, versions: [] };
      },
      safetyMarginMs: 1_000,
      now: () => 0,
    });
    const snapshot = await lease.leased();
    const releaseFirst = lease.hold(snapshot.revision); // an INSERT stamped at revision 3 is in flight
    revision = 4; // a meter is created meanwhile
    const newer = await lease.refresh();
    const releaseSecond = lease.hold(newer.revision);
    await lease.refresh();
    releaseFirst();
    releaseFirst(); // twice is once
    await lease.refresh();
    releaseSecond();
    await lease.refresh();
    expect(sent).toEqual([undefined, '3', '3', '4', undefined]);
  });
});
