import type { Message } from 'kafkajs';
import { eventIdentities, eventsRaw, type ClickHouseClient } from '@polaris/clickhouse';
import { parseJsonExact } from '@polaris/shared/contracts';
import { planBatch } from '../../../sink-worker/src/events/batch-plan';
import { dedupWindow, probeSinceDay } from '../../../sink-worker/src/events/dedup-window';
import type { MeterCatalogSnapshot } from '../../../sink-worker/src/meters/catalog-snapshot';
import { stampMeterValues } from '../../../sink-worker/src/meters/meter-stamp';
import { counterValue, histogramValue, type Sample } from './stats';
import { chunk } from './load';

const POLL_MS = 100;

export async function scalar(client: ClickHouseClient, query: string): Promise<number> {
  const rs = await client.query({ query, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]?.n);
}

export async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`gave up after ${deadlineMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** What the sink-worker's /metrics say it did. */
export function sinkCounters(samples: Sample[]) {
  const batch = histogramValue(samples, 'sink_batch_seconds');
  const duplicatesInBatch = counterValue(samples, 'sink_duplicates_dropped_total', { where: 'batch' });
  const duplicatesInStore = counterValue(samples, 'sink_duplicates_dropped_total', { where: 'store' });
  const written = counterValue(samples, 'sink_events_written_total');
  const deadLetters = counterValue(samples, 'sink_dead_letters_total');
  return {
    batches: batch.count,
    busySeconds: batch.sum,
    written,
    duplicatesInBatch,
    duplicatesInStore,
    deadLetters,
    storeErrors: counterValue(samples, 'sink_store_errors_total'),
    handled: written + duplicatesInBatch + duplicatesInStore + deadLetters,
    meterValuesValid: counterValue(samples, 'sink_meter_values_total', { result: 'valid' }),
    meterValuesInvalid: counterValue(samples, 'sink_meter_values_total', { result: 'invalid' }),
    catalogRevision: counterValue(samples, 'sink_meter_catalog_revision'),
  };
}
export type SinkCounters = ReturnType<typeof sinkCounters>;

/** The rows the sink would insert for `messages`, stamped with `meters` when given (as its stamper does). */
export function plannedRows(messages: readonly Message[], meters?: MeterCatalogSnapshot) {
  const tally = { valid: 0, invalid: 0 };
  return planBatch(messages.map((m, i) => ({ offset: String(i), value: m.value as Buffer }))).candidates.map((c) =>
    meters ? stampMeterValues(c.row, () => parseJsonExact(c.row.data), meters, tally) : c.row,
  );
}

/**
 * The sink's steps per flush (decode and plan, probe event_identities_v2 over the dedup window,
 * stamp with `meters` if given, serialize, insert) in this process, timed apart: what the worker
 * costs without the broker and the process around it. Every candidate is probed (no filter), so
 * the probe share is an upper bound of the worker's.
 */
export async function sinkStepsInProcess(client: ClickHouseClient, messages: Message[], batchSize: number, meters?: MeterCatalogSnapshot) {
  const phases = { plan: 0, stamp: 0, probe: 0, insert: 0 };
  const tally = { valid: 0, invalid: 0 };
  const window = dedupWindow(37);
  let offset = 0;
  for (const batch of chunk(messages, batchSize)) {
    let t = performance.now();
    const plan = planBatch(batch.map((m) => ({ offset: String(offset++), value: m.value as Buffer })));
    phases.plan += performance.now() - t;
    t = performance.now();
    const since = probeSinceDay(Math.min(...plan.candidates.map((c) => c.receivedAtMs)), window);
    const existing = await eventIdentities.findStored(client, plan.candidates.map((c) => c.row), since);
    phases.probe += performance.now() - t;
    t = performance.now();
    // After the probe, as the consumer does: only rows about to be inserted are stamped.
    const fresh = plan.candidates.filter((c) => !existing.has(c.key));
    const rows = meters ? fresh.map((c) => stampMeterValues(c.row, () => parseJsonExact(c.row.data), meters, tally)) : fresh.map((c) => c.row);
    phases.stamp += performance.now() - t;
    t = performance.now();
    await eventsRaw.insertLines(client, rows.map(eventsRaw.line));
    phases.insert += performance.now() - t;
  }
  return phases;
}
