import http from 'node:http';

export interface LoadResult {
  /** Events whose request succeeded. */
  events: number;
  requests: number;
  latenciesMs: number[];
  elapsedMs: number;
  /** The time cap stopped the loop before every item was sent. */
  capped: boolean;
  errors: string[];
}

/**
 * Closed loop: `concurrency` workers each send the next item as soon as their previous one is
 * answered, until the items run out or `capMs` passes. The first error stops every worker (a
 * broken system is not measured further). `send` resolves to the number of events it delivered.
 */
export async function runClosedLoop<T>(items: readonly T[], concurrency: number, capMs: number, send: (item: T) => Promise<number>): Promise<LoadResult> {
  const result: LoadResult = { events: 0, requests: 0, latenciesMs: [], elapsedMs: 0, capped: false, errors: [] };
  let next = 0;
  const started = performance.now();
  const deadline = started + capMs;
  const worker = async () => {
    while (next < items.length && result.errors.length === 0) {
      if (performance.now() > deadline) {
        result.capped = true;
        return;
      }
      const item = items[next++] as T;
      const t0 = performance.now();
      try {
        const delivered = await send(item); // not `events += await …`: that reads `events` before the await
        result.events += delivered;
        result.latenciesMs.push(performance.now() - t0);
        result.requests++;
      } catch (err) {
        result.errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  result.elapsedMs = performance.now() - started;
  return result;
}

/** Keep-alive HTTP/1.1 POSTs over at most `sockets` connections; lighter than fetch on a busy 2-core box. */
export function httpPoster(url: string, sockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const target = new URL(url);
  const post = (headers: Record<string, string>, body: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(20_000, () => req.destroy(new Error('request timed out after 20 s')));
      req.on('error', reject);
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
