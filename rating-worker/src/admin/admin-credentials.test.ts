import { describe, expect, it } from 'vitest';
import { presentedApiKey } from './admin-credentials';

const KEY = 'pol_ab12cd34_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef';
const basic = (userAndPassword: string) => `Basic ${Buffer.from(userAndPassword, 'utf8').toString('base64')}`;

describe('presentedApiKey', () => {
  it('reads the key from the Basic password, whatever the user name', () => {
    expect(presentedApiKey({ authorization: basic(`admin:${KEY}`) })).toBe(KEY);
    expect(presentedApiKey({ authorization: basic(`:${KEY}`) })).toBe(KEY);
    expect(presentedApiKey({ authorization: basic(`anyone:${KEY}`).replace('Basic', 'basic') })).toBe(KEY);
  });

  it('presents no key for Basic without a password (the browser prompts again)', () => {
    expect(presentedApiKey({ authorization: basic('admin:') })).toBeUndefined();
    expect(presentedApiKey({ authorization: basic(KEY) })).toBeUndefined();
  });

  it('reads a Bearer key and an X-API-Key header', () => {
    expect(presentedApiKey({ authorization: `Bearer ${KEY}` })).toBe(KEY);
    expect(presentedApiKey({ 'x-api-key': ` ${KEY} ` })).toBe(KEY);
    expect(presentedApiKey({ 'x-api-key': [KEY, 'other'] })).toBe(KEY);
  });

  it('prefers Authorization to X-API-Key', () => {
    expect(presentedApiKey({ authorization: `Bearer ${KEY}`, 'x-api-key': 'other' })).toBe(KEY);
  });

  it('presents no key without credentials or with another scheme', () => {
    expect(presentedApiKey({})).toBeUndefined();
    expect(presentedApiKey({ authorization: 'Digest username="x"' })).toBeUndefined();
    expect(presentedApiKey({ 'x-api-key': '  ' })).toBeUndefined();
  });
});
