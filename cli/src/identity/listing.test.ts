import { describe, expect, it } from 'vitest';
import type { ListedApiKey } from './api-keys';
import { apiKeysJson, apiKeysText } from './listing';

const organization = { id: '00000000-0000-4000-8000-000000000001', slug: 'acme', name: 'Acme' };
const key: ListedApiKey = {
  prefix: 'pol_abcd1234',
  name: 'ci',
  scopes: ['events:write'],
  createdAt: new Date('2024-01-02T03:04:05.000Z'),
  revokedAt: null,
};

describe('api key listing', () => {
  it('prints only the named fields, even when a row carries more', () => {
    // As if a query had selected one column too many: it must not reach the output.
    const leaky = { ...key, secret_sha256: Buffer.alloc(32, 7), key: 'pol_abcd1234_SECRET' } as ListedApiKey;
    const json = apiKeysJson([leaky]);
    expect(JSON.parse(json)).toEqual([
      { prefix: 'pol_abcd1234', name: 'ci', scopes: ['events:write'], createdAt: '2024-01-02T03:04:05.000Z', revokedAt: null },
    ]);
    const text = apiKeysText(organization, [leaky]);
    for (const output of [json, text]) {
      expect(output).not.toMatch(/SECRET|secret|0707/);
    }
  });

  it('shows a revocation time, or "-" for a live key', () => {
    const revoked = { ...key, prefix: 'pol_zzzz9999', revokedAt: new Date('2024-02-03T04:05:06.000Z') };
    const lines = apiKeysText(organization, [key, revoked]).split('\n');
    expect(lines[0]).toMatch(/^PREFIX\s+NAME\s+SCOPES\s+CREATED\s+REVOKED$/);
    expect(lines[1]).toMatch(/^pol_abcd1234 .* 2024-01-02T03:04:05.000Z\s+-$/);
    expect(lines[2]).toMatch(/ 2024-02-03T04:05:06.000Z$/);
    expect(apiKeysText(organization, [])).toBe(`no API keys for acme (${organization.id})`);
  });
});
