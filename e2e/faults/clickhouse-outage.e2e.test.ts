import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@polaris/dev/launcher';
import { clickhouseService, downOne, loadDevConfig, stackLayout, upOne, type StackService } from '@polaris/dev/local-stack';
import { eventually } from '../support/http';
import { metric, repoRoot } from '../support/private-services';
import { createTokensMeter, expectExactlyOnce } from './support/exactly-once';
import { startFaultSystem, type FaultSystem } from './support/fault-system';
import { steadyLoad } from './support/steady-load';

const quiet = () => undefined;
const stackDir = join(repoRoot, '.stack', 'e2e-faults-clickhouse');
/** How long ClickHouse stays down. */
const OUTAGE_MS = 20_000;

/**
 * ClickHouse stopped for 20 s under a steady stream, then started again. A ClickHouse server of
 * this file's own (other ports, its own data directory), so stopping it disturbs no other test.
 * The collector keeps accepting (the broker is up), the sink retries its batch without committing,
 * and once ClickHouse is back every accepted event is stored once and counted once.
 */
describe('ClickHouse stopped for 20 s under load', () => {
  let server: StackService;
  let sys: FaultSystem;

  beforeAll(async () => {
    rmSync(stackDir, { recursive: true, force: true });
    const [http, tcp] = [await freePort(), await freePort()];
    const config = loadDevConfig({ POLARIS_STACK_DIR: stackDir, POLARIS_CLICKHOUSE_HTTP_PORT: String(http), POLARIS_CLICKHOUSE_TCP_PORT: String(tcp) });
    server = clickhouseService(config, stackLayout(config.stackDir));
    await upOne(server, 60_000, quiet);
    sys = await startFaultSystem({ label: 'faults-clickhouse', clickhouse: { url: `http://127.0.0.1:${http}`, username: 'default', password: '' } });
  });

  afterAll(async () => {
    await sys?.stop();
    if (server) await downOne(server, quiet);
    rmSync(stackDir, { recursive: true, force: true });
  });

  it('nothing lost, nothing doubled, rollups equal to the raw rows', { timeout: 150_000 }, async () => {
    const tenant = await sys.createTenant();
    await createTokensMeter(sys, tenant);
    const load = steadyLoad({ collectorUrl: sys.collectorUrl, apiKey: tenant.apiKey, count: 3_000, perSecond: 100, idPrefix: 'clickhouse-down' });
    await eventually(async () => (load.tracked() >= 600 ? true : undefined), 'the load to get along', 30_000, 50);

    await downOne(server, quiet);
    const downAt = Date.now();
    // The sink feels it: its inserts fail and are retried (nothing committed meanwhile).
    await eventually(async () => ((await metric(sys.sinkOpsPort(), 'sink_store_errors_total')) > 0 ? true : undefined), 'the sink to retry a failed insert', OUTAGE_MS);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));
    await upOne(server, 60_000, quiet);

    const report = await load.done;
    expect(report.problems).toEqual([]);
    await expectExactlyOnce(sys, tenant, report.sent);
  });
});
