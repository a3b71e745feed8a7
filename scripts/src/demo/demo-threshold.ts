import { randomUUID } from 'node:crypto';
import { thresholdFirings, usageThresholds, withOrg, type ThresholdFiring, type Transactable } from '@polaris/postgres';
import type { DemoReceiver } from './demo-webhooks';

// The usage-threshold part of `polaris demo` (README "Usage thresholds"): an absolute threshold on
// a demo customer's API calls, low enough that the calls sent next cross it in the current
// period; the rating-worker's evaluation fires it once, and the demo's webhook receiver gets the
// signed usage.threshold_crossed.

const CUSTOMER = 'acme';
const METER = 'api_calls';
const LIMIT = '10';
const CALLS = 12;
/** A crossing fires within one evaluation interval plus the usage read; the first can wait for a sink's minute. */
const FIRING_DEADLINE_MS = 90_000;

export interface ThresholdWalkthrough {
  db: Transactable;
  organizationId: string;
  org: string;
  send: (events: Record<string, unknown>[]) => Promise<void>;
  receiver: DemoReceiver;
  evaluationIntervalMs: number;
}

/**
 * API calls of the customer, dated 90 s ago: in a whole minute that has ended (usage is read in
 * whole minutes), and in the current period (a new demo subscription's began 10 min ago; at a
 * period's turn they count in the previous one, which is still watched while it settles).
 */
function calls(count: number): Record<string, unknown>[] {
  const run = randomUUID().slice(0, 8);
  const time = new Date(Date.now() - 90_000).toISOString();
  return Array.from({ length: count }, (_, i) => ({
    specversion: '1.0',
    id: `demo-threshold-${run}-${i}`,
    source: 'demo-app',
    type: 'api.request',
    subject: CUSTOMER,
    time,
    data: { route: '/v1/search', status: 200, user: { id: `${CUSTOMER}-user-${i % 4}` }, latency_ms: 30 },
  }));
}

async function waitForFiring(w: ThresholdWalkthrough, thresholdId: string): Promise<ThresholdFiring | undefined> {
  const deadline = Date.now() + FIRING_DEADLINE_MS;
  while (Date.now() < deadline) {
    const [firing] = await withOrg(w.db, w.organizationId, (tx) => thresholdFirings.list(tx, { organizationId: w.organizationId, thresholdId, limit: 1 }));
    if (firing) return firing;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return undefined;
}

/** Creates the threshold, sends the calls that cross it, and prints its firing and its webhook. */
export async function thresholdWalkthrough(w: ThresholdWalkthrough): Promise<void> {
  const { organizationId, org } = w;
  console.log(`\nUsage thresholds (README "Usage thresholds"; npx polaris threshold --help)\n`);
  // Each run watches a threshold of its own: one fires once per period, so an earlier run's has fired already.
  const threshold = await withOrg(w.db, organizationId, async (tx) => {
    for (const old of await usageThresholds.list(tx, { organizationId, externalId: CUSTOMER })) {
      if (old.meterSlug === METER && old.kind === 'absolute') await usageThresholds.archive(tx, { organizationId, thresholdId: old.id });
    }
    return usageThresholds.create(tx, { organizationId, externalId: CUSTOMER, meter: METER, quantity: LIMIT });
  });
  console.log(`  threshold ${threshold.id}: ${CUSTOMER} ${METER} ≥ ${LIMIT} in a billing period (npx polaris threshold create ${CUSTOMER} --meter ${METER} --quantity ${LIMIT} --org ${org})`);
  await w.send(calls(CALLS));
  const started = Date.now();
  console.log(`  sent ${CALLS} ${METER} of ${CUSTOMER} in the current period; the rating-worker evaluates every ${w.evaluationIntervalMs / 1000} s …`);
  const webhook = w.receiver.waitFor((e) => e.type === 'usage.threshold_crossed' && e.data.thresholdId === threshold.id, FIRING_DEADLINE_MS + 30_000);
  const firing = await waitForFiring(w, threshold.id);
  if (!firing) {
    console.log(`  ! not fired after ${FIRING_DEADLINE_MS / 1000} s: see the rating-worker's log (usage-thresholds job)`);
    return;
  }
  console.log(
    `  fired after ${((Date.now() - started) / 1000).toFixed(1)} s: observed ${firing.observedQuantity} ≥ ${firing.limitQuantity}, ` +
      `period ${firing.periodStart.toISOString()} .. ${firing.periodEnd.toISOString()} (npx polaris threshold firings --customer ${CUSTOMER} --org ${org})`,
  );
  const delivered = await webhook;
  console.log(
    delivered
      ? `  usage.threshold_crossed delivered to the demo receiver, signature verified (webhook-id ${delivered.webhookId})`
      : '  ! its usage.threshold_crossed webhook has not arrived yet: npx polaris webhook deliveries --org demo',
  );
}
