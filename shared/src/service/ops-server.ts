import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './logger';

/**
 * A readiness probe: resolves when the dependency answers, rejects (with why) when it doesn't.
 * `critical: false` reports the dependency in the /readyz body without taking the pod out of
 * the load balancer: for a dependency only some requests need, whose outage those requests
 * already answer with their own 503.
 */
export type ReadinessCheck = { name: string; check: () => Promise<void>; critical?: boolean };

/**
 * A liveness probe: throws (with why) when the process can no longer do its job and only a
 * restart helps, e.g. a consumer that has stopped for good. Synchronous and cheap: it reads state.
 */
export type LivenessCheck = { name: string; check: () => void };

export interface OpsServer {
  readonly port: number;
  /** Flip readiness off first thing on shutdown, so load balancers drain before we close. */
  markShuttingDown(): void;
  stop(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(c: ReadinessCheck): Promise<{ name: string; ok: boolean; critical: boolean; error?: string }> {
  const critical = c.critical ?? true;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      c.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { name: c.name, ok: true, critical };
  } catch (err) {
    return { name: c.name, ok: false, critical, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

function livenessFailures(checks: LivenessCheck[]): Array<{ name: string; error: string }> {
  const failures: Array<{ name: string; error: string }> = [];
  for (const c of checks) {
    try {
      c.check();
    } catch (err) {
      failures.push({ name: c.name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return failures;
}

/**
 * /healthz: the process is alive and able to work (liveness; never checks dependencies, so a
 * database outage does not get every pod restarted, only the process's own state).
 * /readyz: every critical dependency answers. /metrics: Prometheus.
 */
export async function startOpsServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  checks: ReadinessCheck[];
  liveness?: LivenessCheck[];
  logger: Logger;
}): Promise<OpsServer> {
  let shuttingDown = false;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.method !== 'GET') return reply(405, { error: { code: 'method_not_allowed' } });
    if (path === '/healthz') {
      const failures = livenessFailures(opts.liveness ?? []);
      return failures.length === 0 ? reply(200, { status: 'ok' }) : reply(503, { status: 'dead', checks: failures });
    }
    if (path === '/readyz') {
      if (shuttingDown) return reply(503, { status: 'shutting_down' });
      void Promise.all(opts.checks.map(runCheck)).then((results) => {
        const ok = results.every((r) => r.ok || !r.critical);
        reply(ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks: results });
      });
      return;
    }
    if (path === '/metrics') {
      void opts.registry.metrics().then(
        (text) => reply(200, text, opts.registry.contentType),
        (err: unknown) => reply(500, { error: { code: 'metrics_failed', message: String(err) } }),
      );
      return;
    }
    reply(404, { error: { code: 'not_found' } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  opts.logger.info({ port }, 'ops server listening (/healthz /readyz /metrics)');
  return {
    port,
    markShuttingDown: () => {
      shuttingDown = true;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
