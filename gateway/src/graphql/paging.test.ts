import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { fakeSystem, Refusal } from '../test-support/fake-backends';

// Every field that pages, found in the schema itself (so a field added later is covered too):
// `first` over the limit is refused naming `first` before any backend call, and a cursor the
// service refuses is reported as `after`.

const SCOPES = ['events:write', 'usage:read', 'meters:write', 'billing:read', 'billing:write', 'admin'];

interface IntrospectedArg {
  name: string;
  type: { kind: string; name: string | null; ofType: { kind: string; name: string | null } | null };
}

/** Each Query field with a `first` argument, as a document asking `args` of it with its required arguments filled. */
async function pagingFields(): Promise<Array<{ name: string; call: (args: string) => string }>> {
  const { post } = fakeSystem(SCOPES, {});
  const res = await post('{ __schema { queryType { fields { name args { name type { kind name ofType { kind name } } } } } } }');
  const fields = (res.body.data?.__schema as { queryType: { fields: Array<{ name: string; args: IntrospectedArg[] }> } }).queryType.fields;
  return fields
    .filter((f) => f.args.some((a) => a.name === 'first'))
    .map((f) => {
      const required = f.args.filter((a) => a.type.kind === 'NON_NULL').map((a) => `${a.name}: ${a.type.ofType?.name === 'Int' ? '1' : '"x"'}`);
      return { name: f.name, call: (args: string) => `{ ${f.name}(${[...required, args].join(', ')}) { __typename } }` };
    });
}

describe('paging, on every field that pages', () => {
  it('finds the connections and lists of the schema', async () => {
    const names = (await pagingFields()).map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['meters', 'events', 'customers', 'plans', 'subscriptions', 'invoices', 'invoicesConnection']));
  });

  it('first over 200 (or under 1): 400 BAD_USER_INPUT invalid_page_size naming first, and no backend call but the key validation', async () => {
    for (const field of await pagingFields()) {
      for (const first of [201, 0, -1]) {
        const { post, calls } = fakeSystem(SCOPES, {});
        const res = await post(field.call(`first: ${first}`));
        expect({ field: field.name, first, error: res.body.errors?.[0]?.extensions }).toMatchObject({
          field: field.name,
          first,
          error: { code: 'BAD_USER_INPUT', reason: 'invalid_page_size', field: 'first' },
        });
        expect([...calls.keys()].filter((k) => k !== 'identity.validateApiKey')).toEqual([]);
      }
    }
  });

  it('a cursor the service refuses: BAD_USER_INPUT naming after, whatever the service called it', async () => {
    for (const field of await pagingFields()) {
      const { post } = fakeSystem(SCOPES, {
        '*': () => {
          throw new Refusal(status.INVALID_ARGUMENT, 'invalid_page_token', 'the page token is not one this service gave', 'page_token');
        },
      });
      const hasAfter = (await post(field.call('after: "garbage"'))).body;
      // No `after` on this field; or a client the fake backends do not hold (the API keys' own).
      if (hasAfter.errors?.[0]?.message.includes('Unknown argument')) continue;
      if (String(hasAfter.errors?.[0]?.extensions?.reason).endsWith('_unavailable')) continue;
      expect({ field: field.name, error: hasAfter.errors?.[0]?.extensions }).toMatchObject({
        field: field.name,
        error: { code: 'BAD_USER_INPUT', reason: 'invalid_page_token', field: 'after' },
      });
    }
  });
});
