import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

/**
 * `<metricName>{state}`: the jobs waiting, active, delayed, failed and completed in a queue, read
 * from Redis at each scrape. Redis down: the scrape still answers, without this gauge's values
 * (cleared, so the last counts read are not shown as current); readiness reports the outage itself.
 */
export function registerQueueDepthGauge(registry: Registry, queue: Queue, metricName: string): void {
  new Gauge({
    name: metricName,
    help: `Jobs in the ${queue.name} queue, by state (read from Redis at each scrape)`,
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed').catch(() => undefined);
      if (!counts) return this.reset();
      for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
    },
  });
}
