import { describe, expect, it } from 'vitest';
import { fakeSystem } from '../test-support/fake-backends';

// GRAPHQL_INTROSPECTION and GRAPHQL_GRAPHIQL: on for local work, off in production.

const SCHEMA = '{ __schema { queryType { name } } }';
const TYPE = '{ __type(name: "Invoice") { name } }';

describe('introspection', () => {
  it('on (the default): __schema and __type are answered', async () => {
    const { post } = fakeSystem([], {}, { introspection: true });
    expect((await post(SCHEMA)).body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect((await post(TYPE)).body.data).toEqual({ __type: { name: 'Invoice' } });
  });

  it('off: 400 BAD_USER_INPUT introspection_disabled naming the setting, before any backend call; __typename still answers', async () => {
    const { post, calls } = fakeSystem(['usage:read'], {}, { introspection: false });
    for (const query of [SCHEMA, TYPE, '{ me { id } a: __schema { types { name } } }']) {
      const res = await post(query);
      expect(res.status).toBe(400);
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'introspection_disabled', limit: 'GRAPHQL_INTROSPECTION' });
    }
    expect(calls.size).toBe(0);
    expect((await post('{ __typename me { __typename id } }')).body.data).toEqual({ __typename: 'Query', me: { __typename: 'Organization', id: expect.any(String) } });
  });
});

describe('GraphiQL', () => {
  const page = (graphiql: boolean) =>
    fakeSystem([], {}, { graphiql }).handler.fetch('http://gateway.test/graphql', { method: 'GET', headers: { accept: 'text/html' } });

  it('on: GET /graphql in a browser is the IDE; off: no IDE', async () => {
    const on = await page(true);
    expect(on.status).toBe(200);
    expect(await on.text()).toContain('GraphiQL');
    const off = await page(false);
    expect(await off.text()).not.toContain('GraphiQL');
  });
});
