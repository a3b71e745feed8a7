import type { ServerResponse } from 'node:http';
import { Histogram, type Registry } from 'prom-client';

export type HttpRequestObserver = (method: string, route: string, res: ServerResponse) => void;

/**
 * `http_server_request_seconds{method,route,status}` for a public HTTP server. `route` must be a
 * route template (or "unmatched"), never the raw URL, to keep label cardinality bounded.
 */
export function createHttpMetrics(registry: Registry): HttpRequestObserver {
  const duration = new Histogram({
    name: 'http_server_request_seconds',
    help: 'Time to answer an HTTP request, by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  return (method, route, res) => {
    const end = duration.startTimer({ method, route });
    res.once('finish', () => end({ status: String(res.statusCode) }));
  };
}
