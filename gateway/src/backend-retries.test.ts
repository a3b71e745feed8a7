import { describe, expect, it } from 'vitest';
import {
  ApiKeysService, CustomersService, IdentityService, IngestService, InvoicesService, MetersService, PlansService, SubscriptionsService, UsageService,
} from '@polaris/proto';
import { idempotentReads } from './backend-retries';

const services = { ApiKeysService, IdentityService, UsageService, IngestService, MetersService, CustomersService, PlansService, SubscriptionsService, InvoicesService };

/** Every method the gateway may call that changes something: none of them may ever be retried. */
const MUTATION = /^(Create|Update|Archive|Add|Remove|Publish|Change|Cancel|Recompute|Finalize|MarkInvoicePaid|Void|Start|Revoke|Rotate|Delete|Set|Record|Send|Replay|Test)/;

describe('which backend calls the gateway retries', () => {
  it('reads only: Get…, List…, BatchGet…, QueryMeter, ValidateApiKey; never a mutation', () => {
    for (const [name, definition] of Object.entries(services)) {
      const methods = Object.values(definition).map((m) => m.path.split('/')[2] ?? '');
      const reads = idempotentReads(definition);
      for (const method of methods) {
        const expectedRead = !MUTATION.test(method);
        expect({ service: name, method, retried: reads.includes(method) }).toEqual({ service: name, method, retried: expectedRead });
      }
    }
  });

  it('the known reads of each service', () => {
    expect(idempotentReads(CustomersService)).toEqual(expect.arrayContaining(['GetCustomer', 'ListCustomers', 'BatchGetCustomers']));
    expect(idempotentReads(InvoicesService)).toEqual(expect.arrayContaining(['ListInvoices', 'GetInvoice', 'GetUpcomingInvoice', 'BatchGetInvoices']));
    expect(idempotentReads(MetersService)).toEqual(expect.arrayContaining(['GetMeter', 'ListMeters', 'GetBackfill', 'BatchGetMeters']));
    expect(idempotentReads(UsageService)).toContain('QueryMeter');
    expect(idempotentReads(IdentityService)).toEqual(expect.arrayContaining(['ValidateApiKey', 'GetOrganization']));
    expect(idempotentReads(IngestService)).toEqual([]);
    // The ApiKeys client of gateway-auth.ts: listing retried, creating and revoking never.
    expect(idempotentReads(ApiKeysService)).toEqual(['ListApiKeys']);
  });
});
