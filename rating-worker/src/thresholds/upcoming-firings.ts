import { thresholdFirings, withOrg, type Pool } from '@polaris/postgres';
import type { UsageThresholdFiring } from '@polaris/proto';
import { firingToProto } from './threshold-proto';

/**
 * The customer's thresholds that fired in the period an upcoming invoice estimates, for
 * GetUpcomingInvoice (Invoice.fired_thresholds).
 */
export async function firedThresholdsOf(pool: Pool, estimate: { organizationId: string; customerId: string; periodStart: Date }): Promise<UsageThresholdFiring[]> {
  const firings = await withOrg(pool, estimate.organizationId, (tx) => thresholdFirings.firedInPeriod(tx, estimate));
  return firings.map(firingToProto);
}
