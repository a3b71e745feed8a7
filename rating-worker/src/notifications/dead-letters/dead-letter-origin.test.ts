import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_REPLAY_HEADERS, eventMessageKey } from '@polaris/shared/contracts';
import { organizationOf, originOf } from './dead-letter-origin';

const ORG = '5d2e8f41-93b0-4c6a-a1de-7b3f0c9e2d55';
const OTHER = '0b9f3c1e-6a57-4f3e-9d8a-2f1c4b7e9a10';
const key = (org: string) => Buffer.from(eventMessageKey(org, { source: 's', id: '1' }));
const value = (namespace: unknown) => Buffer.from(JSON.stringify({ v: 1, namespace }));

describe('organizationOf', () => {
  it('trusts the key, and the value when it agrees', () => {
    expect(organizationOf(key(ORG), value(ORG))).toBe(ORG);
    expect(organizationOf(key(ORG), Buffer.from('not json'))).toBe(ORG);
    expect(organizationOf(key(ORG.toUpperCase()), null)).toBe(ORG);
  });

  it('takes the value when there is no key', () => {
    expect(organizationOf(null, value(ORG))).toBe(ORG);
  });

  it('names no one for a key and value that disagree, a key of another format, or no UUID', () => {
    expect(organizationOf(key(ORG), value(OTHER))).toBeUndefined();
    expect(organizationOf(Buffer.from('plain-key'), value(ORG))).toBeUndefined();
    expect(organizationOf(key('org-1'), value('org-1'))).toBeUndefined();
    expect(organizationOf(null, Buffer.from([0x7b, 0xff]))).toBeUndefined();
    expect(organizationOf(null, null)).toBeUndefined();
  });
});

describe('originOf', () => {
  it('reads the reason and the dead-lettering time', () => {
    const origin = originOf({ key: key(ORG), value: value(ORG), timestamp: '1000', headers: { [DEAD_LETTER_HEADERS.reason]: Buffer.from('invalid_event'), [DEAD_LETTER_HEADERS.at]: '2026-08-10T12:00:00.000Z' } });
    expect(origin).toEqual({ kind: 'letter', reason: 'invalid_event', atMs: Date.parse('2026-08-10T12:00:00.000Z'), organizationId: ORG });
  });

  it("falls back to the broker's timestamp", () => {
    expect(originOf({ key: key(ORG), value: null, timestamp: '1000', headers: { [DEAD_LETTER_HEADERS.reason]: 'store_rejected' } })).toMatchObject({ atMs: 1000 });
  });

  it('skips replay records, but not a replayed copy dead-lettered again', () => {
    const replay = { [DEAD_LETTER_REPLAY_HEADERS.replayOf]: '0/1' };
    expect(originOf({ key: key(ORG), value: null, timestamp: '1', headers: replay })).toEqual({ kind: 'replay_record' });
    expect(originOf({ key: key(ORG), value: value(ORG), timestamp: '1', headers: { ...replay, [DEAD_LETTER_HEADERS.reason]: 'invalid_event' } })).toMatchObject({ kind: 'letter' });
  });
});
