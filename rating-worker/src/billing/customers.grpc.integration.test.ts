import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomersClient } from '@polaris/proto';
import { rejection, startBillingGrpc, type BillingGrpcHarness } from '../test-support/billing-grpc-harness';
import { customersService } from './customers.grpc';

// polaris.v1.Customers over a real server and a PostgreSQL database of its own.

const PERMISSION_DENIED = 7; // grpc status
let h: BillingGrpcHarness;
let gateway: CustomersClient;

beforeAll(async () => {
  h = await startBillingGrpc((pool, unary) => [customersService(pool, unary)]);
  gateway = h.client(CustomersClient);
});
afterAll(async () => h?.stop());

const create = (organizationId: string, externalId: string, extra: { currency?: string; subjects?: string[] } = {}) =>
  h.call(
    gateway.createCustomer.bind(gateway),
    { organizationId, externalId, name: externalId, email: '', currency: extra.currency ?? 'USD', timeZone: '', subjects: extra.subjects ?? [] },
    organizationId,
  );

describe('Customers gRPC', () => {
  it('creates, reads, lists, updates, maps subjects and archives a customer', async () => {
    const created = await create(h.orgA, 'cus_1', { subjects: ['u2', 'u1'] });
    expect(created).toMatchObject({ organizationId: h.orgA, externalId: 'cus_1', currency: 'USD', timeZone: 'UTC', subjects: ['u1', 'u2'], status: 'active' });
    expect(created.createdAt).toBeInstanceOf(Date);
    const byExternal = { organizationId: h.orgA, customerId: '', externalId: 'cus_1' };
    expect(await h.call(gateway.getCustomer.bind(gateway), { organizationId: h.orgA, customerId: created.id, externalId: '' }, h.orgA)).toEqual(created);

    const listed = await h.call(gateway.listCustomers.bind(gateway), { organizationId: h.orgA, includeArchived: false, pageSize: 0, pageToken: '' }, h.orgA);
    expect(listed).toEqual({ customers: [created], nextPageToken: '' });

    const updated = await h.call(gateway.updateCustomer.bind(gateway), { customer: byExternal, name: 'Acme', timeZone: 'Europe/Paris' }, h.orgA);
    expect(updated).toMatchObject({ name: 'Acme', email: '', timeZone: 'Europe/Paris' });
    const added = await h.call(gateway.addCustomerSubjects.bind(gateway), { customer: byExternal, subjects: ['u3'] }, h.orgA);
    expect(added.subjects).toEqual(['u1', 'u2', 'u3']);
    const removed = await h.call(gateway.removeCustomerSubjects.bind(gateway), { customer: byExternal, subjects: ['u1'] }, h.orgA);
    expect(removed.subjects).toEqual(['u2', 'u3']);
    const archived = await h.call(gateway.archiveCustomer.bind(gateway), byExternal, h.orgA);
    expect(archived.status).toBe('archived');
  });

  it('answers bad input INVALID_ARGUMENT (or ALREADY_EXISTS) with the code and the field', async () => {
    expect(await rejection(create(h.orgA, 'bad', { currency: 'DOLLARS' }))).toMatchObject({ kind: 'invalid_argument', code: 'unknown_currency', field: 'currency' });
    await create(h.orgA, 'holder', { subjects: ['s-held'] });
    expect(await rejection(create(h.orgA, 'taker', { subjects: ['s-free', 's-held'] }))).toMatchObject({
      kind: 'already_exists',
      code: 'subject_taken',
      field: 'subjects[1]',
    });
    const missing = await rejection(h.call(gateway.getCustomer.bind(gateway), { organizationId: h.orgA, customerId: '', externalId: 'nobody' }, h.orgA));
    expect(missing).toMatchObject({ kind: 'not_found', code: 'customer_not_found', field: 'external_id' });
  });

  it("finds nothing of another organization's, and refuses a call acting for another organization", async () => {
    const theirs = await create(h.orgA, 'private');
    const byId = { organizationId: h.orgB, customerId: theirs.id, externalId: '' };
    expect(await rejection(h.call(gateway.getCustomer.bind(gateway), byId, h.orgB))).toMatchObject({ kind: 'not_found', code: 'customer_not_found' });
    expect(await rejection(h.call(gateway.updateCustomer.bind(gateway), { customer: byId, name: 'mine' }, h.orgB))).toMatchObject({ code: 'customer_not_found' });

    // The owner's organization named while acting for another: refused before the handler runs,
    // in a top-level organization_id and in a nested customer reference alike.
    const ownerRef = { organizationId: h.orgA, customerId: theirs.id, externalId: '' };
    const denied = { grpcCode: PERMISSION_DENIED, code: 'organization_mismatch', field: 'organization_id' };
    expect(await h.outcome(CustomersClient, 'getCustomer', ownerRef, { actingFor: h.orgB })).toEqual(denied);
    expect(await h.outcome(CustomersClient, 'updateCustomer', { customer: ownerRef, name: 'mine' }, { actingFor: h.orgB })).toEqual(denied);
    expect(await h.outcome(CustomersClient, 'addCustomerSubjects', { customer: ownerRef, subjects: ['x'] }, { actingFor: h.orgB })).toEqual(denied);
    expect(await h.outcome(CustomersClient, 'getCustomer', ownerRef, { caller: 'operator', actingFor: h.orgA })).toBe('ok');
    expect(await h.outcome(CustomersClient, 'getCustomer', ownerRef, { caller: 'collector', actingFor: h.orgA })).toEqual({
      grpcCode: PERMISSION_DENIED,
      code: 'caller_not_allowed',
    });
    expect((await h.call(gateway.getCustomer.bind(gateway), ownerRef, h.orgA)).name).toBe('private');
  });
});
