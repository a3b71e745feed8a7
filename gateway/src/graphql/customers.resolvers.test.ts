import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { customer } from '../test-support/billing-fixtures';
import { fakeSystem, ORG, Refusal } from '../test-support/fake-backends';

function customers() {
  return fakeSystem(['billing:write'], {
    'customers.getCustomer': (req) => {
      if (req.customerId === 'c1' || req.externalId === 'acme') return customer('c1', 'acme');
      const field = req.customerId ? 'customer_id' : 'external_id';
      throw new Refusal(status.NOT_FOUND, 'customer_not_found', 'no customer with that id in this organization', field);
    },
    'customers.createCustomer': (req) => {
      if (req.currency !== 'USD') throw new Refusal(status.INVALID_ARGUMENT, 'unknown_currency', 'currency "usd" is not an ISO 4217 code', 'currency');
      if (req.externalId === 'taken') throw new Refusal(status.ALREADY_EXISTS, 'customer_exists', 'a customer with external id "taken" already exists', 'external_id');
      return { ...customer('c2', String(req.externalId)), subjects: req.subjects as string[], timeZone: String(req.timeZone) };
    },
  });
}

describe('customers', () => {
  it('customer by id or by externalId; neither or both is refused before any call, naming the arguments', async () => {
    const { post, calls } = customers();
    expect((await post('{ customer(id: "c1") { externalId status } }')).body.data).toEqual({ customer: { externalId: 'acme', status: 'ACTIVE' } });
    expect((await post('{ customer(externalId: "acme") { id } }')).body.data).toEqual({ customer: { id: 'c1' } });
    const both = await post('{ customer(id: "c1", externalId: "acme") { id } }');
    expect(both.body.errors?.[0]).toMatchObject({ message: 'give id or externalId, exactly one', extensions: { code: 'BAD_USER_INPUT', reason: 'invalid_reference', field: 'externalId' } });
    const neither = await post('{ customer { id } }');
    expect(neither.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(calls.get('customers.getCustomer')).toBe(2);
  });

  it('an unknown customer is NOT_FOUND naming the argument it was asked by', async () => {
    const { post } = customers();
    const byId = await post('{ customer(id: "someone-elses") { id } }');
    expect(byId.status).toBe(404);
    expect(byId.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'customer_not_found', field: 'id' });
    const byExternal = await post('{ customer(externalId: "nobody") { id } }');
    expect(byExternal.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'externalId' });
  });

  it('createCustomer sends the org of the key and the defaults; refusals name input.<argument>', async () => {
    const { post, requests } = customers();
    const created = await post('mutation { createCustomer(input: { externalId: "new", name: "New", currency: "USD", subjects: ["s1"] }) { id subjects timeZone } }');
    expect(created.body.data).toEqual({ createCustomer: { id: 'c2', subjects: ['s1'], timeZone: 'UTC' } });
    expect(requests.get('customers.createCustomer')?.[0]).toEqual({ organizationId: ORG, externalId: 'new', name: 'New', email: '', currency: 'USD', timeZone: 'UTC', subjects: ['s1'] });
    const currency = await post('mutation { createCustomer(input: { externalId: "x", name: "X", currency: "usd" }) { id } }');
    expect(currency.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'unknown_currency', field: 'input.currency' });
    const taken = await post('mutation { createCustomer(input: { externalId: "taken", name: "X", currency: "USD" }) { id } }');
    expect(taken.status).toBe(409);
    expect(taken.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'customer_exists', field: 'input.externalId' });
  });
});
