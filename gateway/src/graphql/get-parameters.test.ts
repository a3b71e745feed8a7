import { describe, expect, it } from 'vitest';
import { fakeSystem } from '../test-support/fake-backends';

describe('GET /graphql with parameters that are not JSON', () => {
  it('400 BAD_USER_INPUT invalid_json naming the parameter, never a 500', async () => {
    const { handler } = fakeSystem(['usage:read'], {});
    for (const [name, value] of [['variables', '{'], ['extensions', '[oops'], ['variables', "{'a':1}"]] as const) {
      const search = new URLSearchParams({ query: '{ me { id } }', [name]: value });
      const res = await handler.fetch(`http://gateway.test/graphql?${search}`, { method: 'GET', headers: { accept: 'application/json', 'x-api-key': 'pol_abcd1234_key' } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: Array<{ extensions: unknown }> }).errors[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'invalid_json', field: name });
    }
    const fine = await handler.fetch(`http://gateway.test/graphql?${new URLSearchParams({ query: '{ me { id } }', variables: '{}' })}`, {
      method: 'GET',
      headers: { accept: 'application/json', 'x-api-key': 'pol_abcd1234_key' },
    });
    expect(fine.status).toBe(200);
  });
});
