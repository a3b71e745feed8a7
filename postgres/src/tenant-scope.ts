import { requireOrganizationId } from '@polaris/shared/contracts';
import type { Queryable } from './pool';
import { inOpenTransaction, inTransaction, type Isolation, type Transactable } from './transaction';

/**
 * The PostgreSQL setting that row-level security policies compare `organization_id` with
 * (`current_setting('polaris.org_id', true)`). It is set per transaction (`set_config(..., true)`),
 * so it can never outlive the request that set it on a pooled connection.
 */
export const ORG_SETTING = 'polaris.org_id';

// The organization each client's open withOrg acts for.
const scopes = new WeakMap<Queryable, string>();

/**
 * Runs `work` in one transaction scoped to one organization: row-level security then shows and
 * accepts only that organization's rows, whatever the SQL inside says. Every tenant read or write
 * of a service goes through here; a query outside it sees no tenant rows at all (the policies
 * fail closed when the setting is missing).
 *
 * Nesting: called with a client already in withOrg of the same organization, `work` joins that
 * transaction (repositories scope themselves, and callers may group several calls in one
 * transaction); of another organization, it refuses. Called with a client in a transaction that
 * acts for none (the backfill claim, which learns the organization from a cross-organization
 * function first), it acts for `organizationId` until `work` ends.
 */
export async function withOrg<T>(db: Transactable, organizationId: string, work: (tx: Queryable) => Promise<T>, isolation?: Isolation): Promise<T> {
  // invalid_argument `invalid_organization_id` (field organization_id), as every repository said.
  const org = requireOrganizationId(organizationId).toLowerCase();
  if (inOpenTransaction(db)) {
    const current = scopes.get(db);
    if (current === org) return work(db);
    if (current !== undefined) throw new Error(`withOrg(${org}) inside withOrg(${current}) on one connection: a transaction acts for one organization`);
    await db.query(`SELECT set_config('${ORG_SETTING}', $1, true)`, [org]);
    scopes.set(db, org);
    try {
      return await work(db);
    } finally {
      scopes.delete(db);
      // In an aborted transaction this fails too; the rollback that follows clears the setting.
      await db.query(`SELECT set_config('${ORG_SETTING}', '', true)`).catch(() => undefined);
    }
  }
  // The id is checked above (hex and dashes only), so it may be written into the SQL: the setting
  // then travels with the BEGIN, one round trip for both.
  return inTransaction(
    db,
    async (tx) => {
      scopes.set(tx, org);
      try {
        return await work(tx);
      } finally {
        scopes.delete(tx);
      }
    },
    isolation,
    `SELECT set_config('${ORG_SETTING}', '${org}', true)`,
  );
}
