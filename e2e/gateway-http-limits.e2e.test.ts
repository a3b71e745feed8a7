import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { E2E_PORTS, gatewayUrl } from './support/ports';
import { silentClient } from './support/silent-client';
import { freePort, startPrivate } from './support/private-services';
import { graphql } from './support/http';
import { createTenant } from './support/tenants';

// Issue 13: the gateway's body limit checked only Content-Length, and its node server had no
// request or header timeout.

const MAX_BODY_BYTES = 256 * 1024; // the gateway's default
const CHUNK = 64 * 1024;
const TOTAL = 3 * 1024 * 1024;

interface ChunkedResult {
  status: number;
  body: string;
  /** Body bytes written by the client before the answer came. */
  sent: number;
}

/**
 * POSTs `total` bytes with Transfer-Encoding: chunked (no Content-Length), one chunk every few ms,
 * and stops sending as soon as an answer arrives.
 */
function postChunked(url: string, total: number, chunk: Buffer): Promise<ChunkedResult> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      answered = true;
      const sentWhenAnswered = sent;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sent: sentWhenAnswered }));
      res.on('error', reject);
    });
    req.on('error', (err) => {
      // The gateway may close the connection after its 413 (a body past what it discards); a write racing that close may fail.
      if (!answered) reject(err);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    const pump = () => {
      if (answered || req.destroyed) return;
      if (sent >= total) {
        req.end();
        return;
      }
      const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
      sent += piece.length;
      // Paced like a slow uploader (~6 MB/s), not a wait for a condition: the answer must come
      // while most of the body is still unsent, which a client writing flat out would not show.
      req.write(piece, () => setTimeout(pump, 10));
    };
    pump();
  });
}

describe('the gateway body limit holds for a chunked body (no Content-Length)', () => {
  it('3 MB sent in 64 KiB chunks: 413 body_too_large, answered before the body is all sent', async () => {
    const res = await postChunked(gatewayUrl, TOTAL, Buffer.alloc(CHUNK, 'x'));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({
      errors: [{ message: `the request body exceeds ${MAX_BODY_BYTES} bytes`, extensions: { code: 'BAD_USER_INPUT', reason: 'body_too_large', field: 'body' } }],
    });
    expect(res.sent).toBeLessThan(TOTAL);
  });

  it('a small chunked query under the limit is still answered 200', async () => {
    const body = Buffer.from(JSON.stringify({ query: '{ __typename }' }));
    const res = await postChunked(gatewayUrl, body.length, body);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ data: { __typename: 'Query' } });
  });

  it('a normal small query with a key is still 200', async () => {
    const tenant = await createTenant();
    const res = await graphql<{ me: { id: string } }>(tenant.apiKey, '{ me { id } }');
    expect(res.status).toBe(200);
    expect(res.data?.me.id).toBe(tenant.orgId);
  });
});

describe('the gateway cuts off a client that goes silent', () => {
  const REQUEST_TIMEOUT_MS = 1_500;
  const HEADERS_TIMEOUT_MS = 1_000;
  // Node checks these deadlines on an interval (the gateway sets it to at most 1 s); generous on a loaded machine.
  const MARGIN_MS = 2 * REQUEST_TIMEOUT_MS + 3_000;
  /** Idle this long without being cut: the connection was never going to be. */
  const GIVE_UP_MS = REQUEST_TIMEOUT_MS + MARGIN_MS + 10_000;
  let system: RunningSystem | undefined;
  let httpPort: number;

  beforeAll(async () => {
    httpPort = await freePort();
    system = await startPrivate('gateway-http-limits', [
      {
        name: 'gateway',
        opsPort: await freePort(),
        env: {
          HTTP_PORT: String(httpPort),
          IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
          USAGE_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.usageGrpc}`,
          INGEST_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.ingestGrpc}`,
          HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
          HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        },
      },
    ]);
  });
  afterAll(() => system?.stop());

  it('headers then 1 of 100 body bytes, then silence: cut within the request timeout', async () => {
    const head = 'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{';
    const { statusLine, afterMs } = await silentClient(httpPort, head, GIVE_UP_MS);
    expect(afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + MARGIN_MS);
    if (statusLine) expect(statusLine).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('half the headers, then silence: cut within the headers timeout', async () => {
    const { statusLine, afterMs } = await silentClient(httpPort, 'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n', GIVE_UP_MS);
    expect(afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + MARGIN_MS);
    if (statusLine) expect(statusLine).toMatch(/^HTTP\/1\.1 408 /);
  });
});
