import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken, pageSize } from './page-token';

describe('page tokens', () => {
  it('round-trip the slug to continue after', () => {
    expect(decodePageToken(encodePageToken('llm_tokens'))).toBe('llm_tokens');
    expect(decodePageToken('')).toBeUndefined();
    expect(decodePageToken(undefined)).toBeUndefined();
  });

  it('refuse anything else, naming page_token', () => {
    for (const bad of ['x', 'eyJ9', Buffer.from('{"after":3}').toString('base64url'), Buffer.from('[]').toString('base64url')]) {
      expect(() => decodePageToken(bad)).toThrow(expect.objectContaining({ code: 'invalid_page_token', field: 'page_token' }));
    }
  });

  it('default to 50 and cap at 200', () => {
    expect([pageSize(undefined), pageSize(0), pageSize(7), pageSize(200), pageSize(5000)]).toEqual([50, 50, 7, 200, 200]);
    expect(() => pageSize(-1)).toThrow(expect.objectContaining({ field: 'page_size' }));
  });
});
