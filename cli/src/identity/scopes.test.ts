import { describe, expect, it } from 'vitest';
import { parseScopes } from './scopes';

describe('parseScopes', () => {
  it('accepts known scopes, trims and de-duplicates', () => {
    expect(parseScopes('events:write, usage:read,events:write')).toEqual(['events:write', 'usage:read']);
  });

  it('rejects unknown and empty lists', () => {
    expect(() => parseScopes('events:write,root')).toThrow(/unknown scope\(s\) root/);
    expect(() => parseScopes(' , ')).toThrow(/at least one scope/);
  });
});
