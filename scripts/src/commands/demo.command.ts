import path from 'node:path';
import type { Command } from 'commander';
import pg from 'pg';
import type { DevConfig } from '../config';
import { repoRoot } from '../paths';
import { DEFAULT_PORTS, localSpecs, startServices } from '../services/launcher';

const DEMO_SLUG = 'demo';
const SAMPLE_EVENTS = 300;
const BATCH = 100;
const HOUR = 3_600_000;
const MINUTE = 60_000;

async function post(url: string, key: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  if (res.status !== 202) throw new Error(`collector answered ${res.status}: ${await res.text()}`);
}

/**
 * `polaris demo`: runs the four services on the default ports against the local stack, creates
 * the demo organization, a fresh API key and the demo meters, sends sample traffic (with a
 * resent batch, to show deduplication), prints each meter's usage and where to look, and keeps
 * running until Ctrl-C.
 */
export function registerDemoCommand(program: Command, config: () => DevConfig): void {
  program
    .command('demo')
    .description('run the whole system on the default ports with demo data (stack must be up and migrated)')
    .action(async () => {
      const cfg = config();
      const { apiKeys, organizations } = await import('@polaris/postgres');
      const { sampleEvents, seatSnapshots } = await import('../demo/sample-events');
      const { DEMO_METERS, ensureDemoMeters, waitForBackfills } = await import('../demo/demo-meters');
      const { formatReports, meterTotal, readMeterUsage } = await import('../demo/demo-usage');
      const { graphqlClient } = await import('../demo/graphql-client');

      const db = new pg.Client({ connectionString: cfg.postgres.url });
      await db.connect();
      const { organization, key } = await (async () => {
        try {
          const org = (await organizations.findBySlug(db, DEMO_SLUG)) ?? (await organizations.create(db, { name: 'Demo Inc.', slug: DEMO_SLUG }));
          const name = `demo ${new Date().toISOString()}`;
          const created = await apiKeys.create(db, { organizationId: org.id, name, scopes: ['events:write', 'usage:read', 'meters:write'] });
          return { organization: org, key: created.key };
        } finally {
          await db.end();
        }
      })();

      const logDir = path.join(cfg.stackDir, 'logs', 'services');
      console.log(`starting services (logs in ${logDir}) …`);
      const system = await startServices({ repoRoot, logDir, specs: localSpecs(DEFAULT_PORTS, { LOG_LEVEL: 'info' }) });
      const stop = async () => {
        console.log('\nstopping services …');
        try {
          await system.stop();
        } catch (err) {
          // A service that hung or exited non-zero on the way down is a bug worth seeing.
          console.error(err instanceof Error ? err.message : err);
          process.exit(1);
        }
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());

      const collector = `http://127.0.0.1:${DEFAULT_PORTS.collector}/v1/events`;
      const gateway = `http://127.0.0.1:${DEFAULT_PORTS.gateway}/graphql`;
      const request = graphqlClient(gateway, key);

      // Meters first: created before the events, they count them live. A new meter's backfill
      // counts what earlier demo runs stored, and starts only once every sink has the meter.
      const created = await ensureDemoMeters(request);
      if (created.length > 0) {
        console.log(`created meters ${created.join(', ')}; waiting for their backfills …`);
        await waitForBackfills(request, created);
      }

      // Usage takes whole minutes; the traffic covers the last 6 hours: 7 hour windows.
      const now = Date.now();
      const from = new Date(Math.floor((now - 6 * HOUR) / HOUR) * HOUR).toISOString();
      const to = new Date(Math.ceil((now + MINUTE) / MINUTE) * MINUTE).toISOString();
      const events = [...sampleEvents(SAMPLE_EVENTS, now), ...seatSnapshots(now)];
      const calls = events.filter((e) => e.type === 'api.request').length;
      // Earlier demo runs may have left usage in the same range: wait for ours on top of it.
      const expected = Number((await meterTotal(request, 'api_calls', from, to)) ?? 0) + calls;

      for (let i = 0; i < events.length; i += BATCH) await post(collector, key, events.slice(i, i + BATCH));
      await post(collector, key, events.slice(0, BATCH)); // a client retry: must change nothing

      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && Number((await meterTotal(request, 'api_calls', from, to)) ?? 0) < expected) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const reports = [];
      for (const meter of DEMO_METERS) reports.push(await readMeterUsage(request, meter, from, to));

      const seedsQuery = 'query { me { id name } usage(metric: \\"api_calls\\") { metric total periodStart periodEnd } }';
      console.log(`
Polaris is running with demo data.

  organization  ${organization.slug} (${organization.id})
  API key       ${key}     (shown once; create more with: npx polaris api-key create --org demo)

  GraphQL       ${gateway}   (GraphiQL in a browser)
  Collector     ${collector}
  Metrics       http://127.0.0.1:${DEFAULT_PORTS.ops.gateway}/metrics (gateway), :${DEFAULT_PORTS.ops.collector} collector, :${DEFAULT_PORTS.ops['sink-worker']} sink-worker, :${DEFAULT_PORTS.ops['rating-worker']} rating-worker
  Logs          ${logDir}

Sent ${events.length} events over the last 6 hours, then resent the first ${BATCH} (deduplicated).
Usage from ${from} to ${to}, per meter, read back through gateway → Usage gRPC → ClickHouse rollups:
${formatReports(reports)}

Try:
  curl -s -X POST ${collector} \\
    -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/cloudevents+json' \\
    -d '{"specversion":"1.0","id":"my-first-event","source":"curl","type":"api.request","subject":"acme","data":{"user":{"id":"acme-user-9"},"latency_ms":42}}'

  curl -s -X POST ${gateway} -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\
    -d '{"query":"${seedsQuery}"}'

  npx polaris meter list --org demo      (what each meter measures; README "Meters")

Press Ctrl-C to stop the services (the stack keeps running; npx polaris stack down stops it).`);
    });
}
