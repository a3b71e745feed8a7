import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';
import { parseFirstRow } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';

/**
 * An organization's own limit on the events it sends to the collector: `eventsPerSecond` on
 * average, at most `burst` in any one second. Organizations without one get the collector's default.
 */
export const organizationRateLimitSchema = z.object({
  organizationId: z.guid(),
  eventsPerSecond: z.number().int().positive(),
  burst: z.number().int().positive(),
  updatedAt: z.date(),
});
export type OrganizationRateLimit = z.infer<typeof organizationRateLimitSchema>;

/** The largest value either number may take (the column is a PostgreSQL integer). */
export const MAX_EVENTS_PER_SECOND = 2_147_483_647;

const COLUMNS = 'organization_id AS "organizationId", events_per_second AS "eventsPerSecond", burst, updated_at AS "updatedAt"';

/**
 * Refuses what the table's CHECK constraints would, with a message naming the option: a rate
 * that is not a whole number of at least 1, a burst below the rate.
 */
function checkLimit(input: { eventsPerSecond: number; burst: number }): void {
  const whole = (n: number) => Number.isSafeInteger(n) && n >= 1 && n <= MAX_EVENTS_PER_SECOND;
  if (!whole(input.eventsPerSecond)) {
    throw new PolarisError('invalid_argument', 'invalid_rate_limit', `events per second must be a whole number from 1 to ${MAX_EVENTS_PER_SECOND}`, 'eventsPerSecond');
  }
  if (!whole(input.burst) || input.burst < input.eventsPerSecond) {
    throw new PolarisError('invalid_argument', 'invalid_rate_limit', `burst must be a whole number from events per second (${input.eventsPerSecond}) to ${MAX_EVENTS_PER_SECOND}`, 'burst');
  }
}

async function find(db: Transactable, organizationId: string): Promise<OrganizationRateLimit | undefined> {
  const { rows } = await withOrg(db, organizationId, (tx) => tx.query(`SELECT ${COLUMNS} FROM organization_rate_limits WHERE organization_id = $1::uuid`, [organizationId]));
  return parseFirstRow('organizationRateLimits.find', organizationRateLimitSchema, rows);
}

/** Sets (or replaces) an organization's limit. */
async function set(db: Transactable, organizationId: string, input: { eventsPerSecond: number; burst: number }): Promise<OrganizationRateLimit> {
  checkLimit(input);
  const { rows } = await withOrg(db, organizationId, (tx) => tx.query(
    `INSERT INTO organization_rate_limits (organization_id, events_per_second, burst) VALUES ($1::uuid, $2, $3)
     ON CONFLICT (organization_id) DO UPDATE SET events_per_second = EXCLUDED.events_per_second, burst = EXCLUDED.burst, updated_at = now()
     RETURNING ${COLUMNS}`,
    [organizationId, input.eventsPerSecond, input.burst],
  ));
  const stored = parseFirstRow('organizationRateLimits.set', organizationRateLimitSchema, rows);
  if (!stored) throw new Error('INSERT … RETURNING returned no row');
  return stored;
}

/** Removes an organization's limit (it gets the default again); false when it had none. */
async function clear(db: Transactable, organizationId: string): Promise<boolean> {
  const { rowCount } = await withOrg(db, organizationId, (tx) => tx.query('DELETE FROM organization_rate_limits WHERE organization_id = $1::uuid', [organizationId]));
  return (rowCount ?? 0) > 0;
}

/** The `organization_rate_limits` table: the only code that reads or writes it. */
export const organizationRateLimits = { find, set, clear };
