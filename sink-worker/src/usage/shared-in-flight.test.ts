import { describe, expect, it } from 'vitest';
import { sharedInFlight } from './shared-in-flight';

function deferredCalls() {
  const started: Array<{ org: string; slug: string; settle: (value: string | Error) => void }> = [];
  const call = (org: string, slug: string) =>
    new Promise<string>((resolve, reject) => {
      started.push({ org, slug, settle: (value) => (value instanceof Error ? reject(value) : resolve(value)) });
    });
  return { started, shared: sharedInFlight((org: string, slug: string) => `${org}\u0000${slug}`, call) };
}

describe('sharedInFlight', () => {
  it('one call for the same key while it is under way; another for another key, and again once answered', async () => {
    const { started, shared } = deferredCalls();
    const a = shared('org-a', 'calls');
    const b = shared('org-a', 'calls');
    const other = shared('org-b', 'calls');
    expect(started.map((s) => s.org)).toEqual(['org-a', 'org-b']);
    started[0]?.settle('meter of a');
    started[1]?.settle('meter of b');
    expect(await Promise.all([a, b, other])).toEqual(['meter of a', 'meter of a', 'meter of b']);
    const again = shared('org-a', 'calls');
    expect(started).toHaveLength(3);
    started[2]?.settle('newer meter of a');
    expect(await again).toBe('newer meter of a');
  });

  it('shares a failure with the callers that waited for it, and forgets it', async () => {
    const { started, shared } = deferredCalls();
    const a = shared('org-a', 'calls');
    const b = shared('org-a', 'calls');
    started[0]?.settle(new Error('meter_not_found'));
    await expect(a).rejects.toThrow('meter_not_found');
    await expect(b).rejects.toThrow('meter_not_found');
    void shared('org-a', 'calls');
    expect(started).toHaveLength(2);
  });
});
