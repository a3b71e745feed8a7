import { Registry, collectDefaultMetrics, Counter, Histogram } from 'prom-client';

export { Counter, Histogram, Registry };

/** One registry per process, with the Node runtime metrics and a `service` label on all. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
