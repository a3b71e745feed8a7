import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BatchMetrics } from './batch-metrics';

async function sample(registry: Registry, name: string): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith(name));
}

describe('BatchMetrics', () => {
  it('counts batch sizes, flush latency from the oldest message, the committed offset and rows per second', async () => {
    let now = 1_000_000;
    const registry = new Registry();
    const metrics = new BatchMetrics(registry, () => now);
    metrics.observe({ partition: 2, messages: 300, inserted: 280, committedOffset: '1300', firstMessageTimestampMs: now - 1_500, seconds: 0.2 });
    now += 1_000;
    metrics.observe({ partition: 2, messages: 50, inserted: 20, committedOffset: '1350', firstMessageTimestampMs: now - 200, seconds: 0.05 });

    expect(await sample(registry, 'sink_batch_messages_sum')).toEqual(['sink_batch_messages_sum 350']);
    expect(await sample(registry, 'sink_flush_latency_seconds_sum')).toEqual(['sink_flush_latency_seconds_sum 1.7']);
    expect(await sample(registry, 'sink_partition_committed_offset')).toContain('sink_partition_committed_offset{partition="2"} 1350');
    // 300 rows within the last 10 s.
    expect(await sample(registry, 'sink_rows_per_second')).toContain('sink_rows_per_second 30');

    now += 9_500; // the first batch leaves the window
    expect(metrics.rowsPerSecond()).toBe(2);
    now += 1_000;
    expect(metrics.rowsPerSecond()).toBe(0);
  });
});
