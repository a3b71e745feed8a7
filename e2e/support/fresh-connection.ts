import http from 'node:http';

export type FreshAnswer = { status: number; body: string } | { error: string };

/**
 * POST over a connection of its own (no pooled keep-alive connection is reused): what a new
 * client, or a load balancer's new connection, meets. A network failure comes back as its code
 * (`ECONNREFUSED`, `ECONNRESET`), never thrown.
 */
export function postOnNewConnection(url: string, headers: Record<string, string>, body: string, timeoutMs = 30_000): Promise<FreshAnswer> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { ...headers, connection: 'close' }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(body);
  });
}
