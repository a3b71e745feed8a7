import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServices, type RunningSystem } from '../scripts/src/services/launcher';
import { E2E_PORTS } from './support/ports';
import { createTenant } from './support/tenants';
import { cloudEvent, postEvents } from './support/http';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const HTTP_PORT = 18181;
const OPS_PORT = 19191;

/** A loopback port with nothing listening: a broker that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('collector with the broker down', () => {
  let collector: RunningSystem | undefined;

  beforeAll(async () => {
    collector = await startServices({
      runFrom: 'bundle', // built by the global setup
      repoRoot,
      logDir: join(repoRoot, '.stack', 'logs', 'e2e-broker-down'),
      specs: [
        {
          name: 'collector',
          opsPort: OPS_PORT,
          waitFor: 'healthz', // it is alive but, rightly, never ready
          env: {
            HTTP_PORT: String(HTTP_PORT),
            GRPC_PORT: '15151',
            KAFKA_BROKERS: `127.0.0.1:${await closedPort()}`,
            IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
            PUBLISH_TIMEOUT_MS: '2000',
          },
        },
      ],
    });
  });
  afterAll(() => collector?.stop());

  it('answers 503 broker_unavailable within the publish deadline, not 500 and not a hang', async () => {
    const { apiKey } = await createTenant();
    const res = await postEvents(apiKey, cloudEvent(), 'application/cloudevents+json', `http://127.0.0.1:${HTTP_PORT}`);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'broker_unavailable' });
    expect((res.body.error as { message: string }).message).toMatch(/retry/);
  });

  it('reports not ready, naming the broker', async () => {
    const res = await fetch(`http://127.0.0.1:${OPS_PORT}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/broker/);
  });
});
