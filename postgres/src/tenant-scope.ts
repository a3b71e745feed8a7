import { PolarisError } from '@polaris/shared/errors';
import type { Queryable } from './pool';
import { inTransaction, type Isolation, type Transactable } from './transaction';

/**
 * The PostgreSQL setting that row-level security policies compare `organization_id` with
 * (`current_setting('polaris.org_id', true)`). It is set per transaction (`set_config(..., true)`),
 * so it can never outlive the request that set it on a pooled connection.
 */
export const ORG_SETTING = 'polaris.org_id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Runs `work` in one transaction scoped to one organization: row-level security then shows and
 * accepts only that organization's rows, whatever the SQL inside says. Every tenant read or write
 * of a service goes through here; a query outside it sees no tenant rows at all (the policies
 * fail closed when the setting is missing).
 */
export async function withOrg<T>(db: Transactable, organizationId: string, work: (tx: Queryable) => Promise<T>, isolation?: Isolation): Promise<T> {
  if (!UUID.test(organizationId)) {
    throw new PolarisError('invalid_argument', 'invalid_organization_id', 'the organization id must be a UUID', 'organizationId');
  }
  return inTransaction(db, async (tx) => {
    await tx.query(`SELECT set_config('${ORG_SETTING}', $1, true)`, [organizationId]);
    return work(tx);
  }, isolation);
}
