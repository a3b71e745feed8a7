import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { startServices, type RunningSystem } from '@polaris/dev/launcher';
import { downOne, kafkaService, loadDevConfig, stackLayout, upOne } from '@polaris/dev/local-stack';
import { E2E_PORTS } from './support/ports';
import { createTenant, type Tenant } from './support/tenants';
import { cloudEvent, eventually, postEvents } from './support/http';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const stackDir = join(repoRoot, '.stack', 'e2e-outage');
const KAFKA_PORT = 39092;
const HTTP_PORT = 18281;
const OPS_PORT = 19291;
const collectorUrl = `http://127.0.0.1:${HTTP_PORT}`;

// A broker of its own, so stopping it does not disturb the rest of the suite.
const config = loadDevConfig({ POLARIS_STACK_DIR: stackDir, POLARIS_KAFKA_PORT: String(KAFKA_PORT), POLARIS_KAFKA_CONTROLLER_PORT: '39093' });
const broker = kafkaService(config, stackLayout(config.stackDir));
const quiet = () => undefined;

async function readyz(): Promise<number> {
  return (await fetch(`http://127.0.0.1:${OPS_PORT}/readyz`, { signal: AbortSignal.timeout(5_000) })).status;
}

/** The collector's PUBLISH_TIMEOUT_MS here, and how late past it a 503 may come on a loaded machine. */
const PUBLISH_TIMEOUT_MS = 3_000;
const DEADLINE_MARGIN_MS = 3_000;

describe('collector through a real broker outage', () => {
  let collector: RunningSystem | undefined;
  let tenant: Tenant;

  beforeAll(async () => {
    await upOne(broker, 120_000, quiet);
    const admin = new Kafka({ clientId: 'e2e-outage', brokers: [`127.0.0.1:${KAFKA_PORT}`], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: EVENTS_TOPIC, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    tenant = await createTenant();
    collector = await startServices({
      runFrom: 'bundle', // built by the global setup
      repoRoot,
      logDir: join(repoRoot, '.stack', 'logs', 'e2e-outage'),
      specs: [
        {
          name: 'collector',
          opsPort: OPS_PORT,
          env: {
            HTTP_PORT: String(HTTP_PORT),
            GRPC_PORT: '15251',
            KAFKA_BROKERS: `127.0.0.1:${KAFKA_PORT}`,
            IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
            PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
          },
        },
      ],
    });
  });

  afterAll(async () => {
    await collector?.stop();
    await downOne(broker, quiet);
    rmSync(stackDir, { recursive: true, force: true });
  });

  it('accepts, answers 503 while the broker is stopped, and recovers when it is back', async () => {
    expect((await postEvents(tenant.apiKey, cloudEvent(), undefined, collectorUrl)).status).toBe(202);

    await downOne(broker, quiet);
    const started = Date.now();
    const during = await postEvents(tenant.apiKey, cloudEvent(), undefined, collectorUrl);
    expect(during.status).toBe(503);
    // Within the configured publish deadline, plus a generous margin for a loaded machine.
    expect(Date.now() - started).toBeLessThan(PUBLISH_TIMEOUT_MS + DEADLINE_MARGIN_MS);
    expect(during.body.error).toMatchObject({ code: 'broker_unavailable' });
    await eventually(async () => ((await readyz()) === 503 ? true : undefined), 'the collector to report not ready');

    await upOne(broker, 120_000, quiet);
    await eventually(async () => ((await readyz()) === 200 ? true : undefined), 'the collector to be ready again', 60_000);
    expect((await postEvents(tenant.apiKey, cloudEvent(), undefined, collectorUrl)).status).toBe(202);
  });
});
