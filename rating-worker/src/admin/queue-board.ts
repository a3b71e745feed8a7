import { createServer } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { httpStatusOf, PolarisError } from '@polaris/shared/errors';
import type { Logger } from '@polaris/shared/service';
import { presentedApiKey } from './admin-credentials';
import type { AdminAuthenticate } from './admin-keys';

/** Where bull-board is served; its JSON API is under it (`/admin/queues/api/queues`). */
export const QUEUE_BOARD_PATH = '/admin/queues';
/** The realm of the browser's login prompt. */
export const ADMIN_REALM = 'polaris-admin';
/** The scope an API key needs to see or act on the queues. */
export const ADMIN_SCOPE = 'admin';

export interface QueueBoard {
  readonly port: number;
  stop(): Promise<void>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function refuse(res: Response, err: PolarisError): void {
  if (err.kind === 'unauthenticated') res.setHeader('www-authenticate', `Basic realm="${ADMIN_REALM}", charset="UTF-8"`);
  res.status(httpStatusOf(err)).json({ error: err.toJSON() });
}

/**
 * A browser sends Basic credentials it has cached with every request to this origin, also those a
 * page of another site makes it send: a form posted from elsewhere could retry, clean or add jobs.
 * A changing request must come from the board's own pages (an Origin other than ours is refused).
 */
function crossSite(req: Request): boolean {
  if (SAFE_METHODS.has(req.method)) return false;
  if (req.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/**
 * Only API keys with the `admin` scope get in: no key, or an unknown or revoked one, is 401 with
 * the Basic challenge (so a browser shows its login prompt); a valid key without `admin` is 403.
 */
function requireAdmin(authenticate: AdminAuthenticate, logger: Logger): RequestHandler {
  return async (req, res, next) => {
    const apiKey = presentedApiKey(req.headers);
    if (!apiKey) {
      return refuse(res, new PolarisError('unauthenticated', 'missing_api_key', 'log in with an API key that has the "admin" scope (Basic password, or "Authorization: Bearer <key>")'));
    }
    let holder;
    try {
      holder = await authenticate(apiKey);
    } catch (err) {
      logger.error({ err }, 'admin: API key lookup failed');
      return refuse(res, new PolarisError('unavailable', 'admin_auth_unavailable', 'API keys cannot be checked right now; retry'));
    }
    if (!holder) return refuse(res, new PolarisError('unauthenticated', 'invalid_api_key', 'API key is invalid or revoked'));
    if (!holder.scopes.includes(ADMIN_SCOPE)) {
      logger.warn({ keyPrefix: holder.keyPrefix, organizationId: holder.organizationId, path: req.originalUrl }, 'admin: refused a key without the admin scope');
      return refuse(res, new PolarisError('permission_denied', 'missing_scope', `this API key lacks the "${ADMIN_SCOPE}" scope`));
    }
    if (crossSite(req)) {
      logger.warn({ keyPrefix: holder.keyPrefix, method: req.method, path: req.originalUrl, origin: req.headers.origin }, 'admin: refused a cross-site request');
      return refuse(res, new PolarisError('permission_denied', 'cross_site_request', 'a changing request must come from the board itself'));
    }
    // Reads are the board polling; actions (retry, clean, remove, pause a queue) are worth a trail.
    if (!SAFE_METHODS.has(req.method)) {
      logger.info({ keyPrefix: holder.keyPrefix, organizationId: holder.organizationId, method: req.method, path: req.originalUrl }, 'admin: queue action');
    }
    next();
  };
}

/**
 * bull-board over the given BullMQ queues at /admin/queues, on a port of its own, for operators.
 *
 * Why here, in the rating-worker: it owns both what the board shows and what guards it, the
 * queues (Redis) and the API keys (PostgreSQL), so it needs no client it does not hold already.
 * The gateway, the public door, holds no store client by design (docs/ARCHITECTURE.md), and a
 * board there would give it a Redis client and put queue actions behind the Ingress. This port is
 * never routed by the Ingress nor selected by a Service: in Kubernetes it binds loopback and is
 * reached with `kubectl port-forward`; in docker-compose it is published on 127.0.0.1 only.
 */
export async function startQueueBoard(opts: {
  host: string;
  port: number;
  queues: readonly Queue[];
  authenticate: AdminAuthenticate;
  logger: Logger;
}): Promise<QueueBoard> {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: opts.queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Polaris queues', hideDocsLink: true } },
  });

  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    // The action buttons must not be clickable through another site's frame.
    res.setHeader('x-frame-options', 'DENY');
    next();
  });
  app.use(QUEUE_BOARD_PATH, requireAdmin(opts.authenticate, opts.logger), serverAdapter.getRouter() as RequestHandler);
  app.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}; the board is at ${QUEUE_BOARD_PATH}` } });
  });
  // Express's default handler would answer with a stack trace outside production.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    opts.logger.error({ err }, 'admin: request failed');
    if (!res.headersSent) res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  });

  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  opts.logger.info({ port, path: QUEUE_BOARD_PATH, queues: opts.queues.map((q) => q.name) }, 'queue board listening (admin API keys only)');
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        // The board's page polls over keep-alive connections: close them, nothing is worth waiting for.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
