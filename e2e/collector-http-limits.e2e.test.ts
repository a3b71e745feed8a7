import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { E2E_PORTS } from './support/ports';
import { freePort, startPrivate } from './support/private-services';
import { createTenant, type Tenant } from './support/tenants';
import { postEvents } from './support/http';
import { silentClient } from './support/silent-client';

/** The private collector's timeouts: short, so a slow client is cut quickly. */
const REQUEST_TIMEOUT_MS = 1_500;
const HEADERS_TIMEOUT_MS = 1_000;
/** Node checks those timeouts about once a second; the rest is slack for a loaded machine. */
const CUT_MARGIN_MS = 1_000 + 5_000;
/** How long the test waits before calling the connection "never cut". */
const GIVE_UP_MS = REQUEST_TIMEOUT_MS + CUT_MARGIN_MS + 10_000;

describe('a slow client cannot hold a collector connection open', () => {
  let system: RunningSystem | undefined;
  let httpPort: number;
  let tenant: Tenant;

  beforeAll(async () => {
    tenant = await createTenant();
    httpPort = await freePort();
    system = await startPrivate('collector-http-limits', [
      {
        name: 'collector',
        opsPort: await freePort(),
        env: {
          HTTP_PORT: String(httpPort),
          GRPC_PORT: String(await freePort()),
          IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
          HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
          HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        },
      },
    ]);
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
  });

  it('headers and one body byte, then silence: cut within the request timeout', async () => {
    const cut = await silentClient(
      httpPort,
      'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cloudevents+json\r\n' +
        `Authorization: Bearer ${tenant.apiKey}\r\nContent-Length: 100\r\n\r\n{`,
      GIVE_UP_MS,
    );
    expect(cut.statusLine === '' || cut.statusLine.startsWith('HTTP/1.1 408')).toBe(true);
    expect(cut.afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + CUT_MARGIN_MS);
  }, GIVE_UP_MS + 5_000);

  it('half the headers, then silence: cut within the headers timeout', async () => {
    const cut = await silentClient(httpPort, 'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n', GIVE_UP_MS);
    expect(cut.statusLine === '' || cut.statusLine.startsWith('HTTP/1.1 408')).toBe(true);
    expect(cut.afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + CUT_MARGIN_MS);
  }, GIVE_UP_MS + 5_000);
});

describe('the API key is checked before the body is parsed', () => {
  const notJson = '{"specversion": "1.0", oops';

  it('no key and invalid JSON: 401 missing_api_key', async () => {
    const res = await postEvents(undefined, notJson);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'missing_api_key' } });
  });

  it('an unknown key and invalid JSON: 401 invalid_api_key', async () => {
    const res = await postEvents('pk_not_a_real_key_0123456789', notJson);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'invalid_api_key' } });
  });

  it('a key without events:write and invalid JSON: 403', async () => {
    const readOnly = await createTenant(['usage:read']);
    const res = await postEvents(readOnly.apiKey, notJson);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'missing_scope' } });
  });

  it('a valid key and invalid JSON: still 400 invalid_json', async () => {
    const writer = await createTenant();
    const res = await postEvents(writer.apiKey, notJson);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid_json' } });
  });
});
