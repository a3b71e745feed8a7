import path from 'node:path';
import type { Command } from 'commander';
import { SERVICE_PORTS } from '@polaris/shared/contracts';
import pg from 'pg';
import type { DevConfig } from '../config';
import { repoRoot } from '../paths';
import { DEFAULT_PORTS, localSpecs, startServices } from '../services/launcher';

const DEMO_SLUG = 'demo';
/** The operators' organization whose key opens the queue board: the `admin` scope sees every tenant's jobs. */
const OPERATORS = { slug: 'demo-ops', name: 'Demo operators' };
/**
 * The rating-worker looks for closed periods this often under the demo (default 60 s), so the
 * demo's invoices are drafted within seconds; settle delay and grace keep their defaults.
 */
const DEMO_RATING_SCAN_INTERVAL_MS = 5_000;
/** Usage thresholds are evaluated this often under the demo (default 20 s), so its threshold fires within seconds. */
const DEMO_THRESHOLD_EVALUATION_INTERVAL_MS = 5_000;
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
 * resent batch, to show deduplication), prints each meter's usage, then bills it: a plan,
 * customers and subscriptions whose first period has closed, the invoice the rating-worker
 * drafts, finalized, and the estimate of the current period. Prints where to look, and keeps
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
      const { sendDemoEvents } = await import('../demo/send-demo-events');
      const { billingWalkthrough } = await import('../demo/billing-walkthrough');

      const db = new pg.Client({ connectionString: cfg.postgres.url });
      await db.connect();
      const { organization, key, adminKey } = await (async () => {
        try {
          const org = (await organizations.findBySlug(db, DEMO_SLUG)) ?? (await organizations.create(db, { name: 'Demo Inc.', slug: DEMO_SLUG }));
          const ops = (await organizations.findBySlug(db, OPERATORS.slug)) ?? (await organizations.create(db, OPERATORS));
          const name = `demo ${new Date().toISOString()}`;
          const created = await apiKeys.create(db, { organizationId: org.id, name, scopes: ['events:write', 'usage:read', 'meters:write'] });
          const admin = await apiKeys.create(db, { organizationId: ops.id, name, scopes: ['admin'] });
          return { organization: org, key: created.key, adminKey: admin.key };
        } finally {
          await db.end();
        }
      })();

      const logDir = path.join(cfg.stackDir, 'logs', 'services');
      console.log(`starting services (logs in ${logDir}) …`);
      const specs = localSpecs(DEFAULT_PORTS, { LOG_LEVEL: 'info' }).map((spec) =>
        spec.name === 'rating-worker'
          ? {
              ...spec,
              env: { ...spec.env, RATING_SCAN_INTERVAL_MS: String(DEMO_RATING_SCAN_INTERVAL_MS), THRESHOLD_EVALUATION_INTERVAL_MS: String(DEMO_THRESHOLD_EVALUATION_INTERVAL_MS) },
            }
          : spec,
      );
      const system = await startServices({ repoRoot, logDir, specs });
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

      // Through @polaris/sdk, as a customer's app sends; the first BATCH again is a client retry: it must change nothing.
      await sendDemoEvents(collector, key, events, BATCH);

      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && Number((await meterTotal(request, 'api_calls', from, to)) ?? 0) < expected) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const reports = [];
      for (const meter of DEMO_METERS) reports.push(await readMeterUsage(request, meter, from, to));

      const seedsQuery = 'query { me { id name } usage(metric: \\"api_calls\\") { metric total periodStart periodEnd } }';
      const board = `http://127.0.0.1:${DEFAULT_PORTS.ratingAdmin ?? SERVICE_PORTS['rating-worker'].admin}/admin/queues`;
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
${formatReports(reports)}`);

      const billingDb = new pg.Client({ connectionString: cfg.postgres.url });
      await billingDb.connect();
      // Webhooks: a local receiver, registered for every event type, prints each signed delivery
      // (the invoice events of the walkthrough below), README "Webhooks".
      const { startDemoReceiver } = await import('../demo/demo-webhooks');
      const webhooksDb = new pg.Pool({ connectionString: cfg.postgres.url, max: 2 });
      const receiver = await startDemoReceiver(webhooksDb, organization.id, (line) => console.log(line));
      console.log(`\nWebhook endpoint ${receiver.endpointId} → ${receiver.url} (deliveries print here as they arrive)`);
      try {
        await billingWalkthrough({
          target: { db: billingDb, config: cfg, org: organization.slug },
          organization,
          request,
          send: (batch) => post(collector, key, batch),
          batch: BATCH,
          scanIntervalMs: DEMO_RATING_SCAN_INTERVAL_MS,
        });
        // A usage threshold on a demo customer, crossed by the calls it sends: its firing and its webhook.
        const { thresholdWalkthrough } = await import('../demo/demo-threshold');
        await thresholdWalkthrough({
          db: billingDb,
          organizationId: organization.id,
          org: organization.slug,
          send: (batch) => post(collector, key, batch),
          receiver,
          evaluationIntervalMs: DEMO_THRESHOLD_EVALUATION_INTERVAL_MS,
        }).catch((err: unknown) => console.log(`  ! usage threshold step failed: ${err instanceof Error ? err.message : String(err)}`));
      } finally {
        await billingDb.end();
      }

      console.log(`
Webhooks: ${receiver.received()} delivered to the demo receiver so far (more print above as they come).
  npx polaris webhook deliveries --org demo      (the delivery log: attempts, status, latency)
  npx polaris webhook replay <delivery-id> --org demo
  Emails (invoice finalized, endpoint disabled) land in the local SMTP server: ${path.join(cfg.stackDir, 'smtp', 'messages')}

Queue board (bull-board: the rating jobs)
  ${board}
  log in with any user name and this admin key as the password (organization ${OPERATORS.slug}, scope admin; shown once):
  ${adminKey}

Try:
  curl -s -X POST ${collector} \\
    -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/cloudevents+json' \\
    -d '{"specversion":"1.0","id":"my-first-event","source":"curl","type":"api.request","subject":"acme","data":{"user":{"id":"acme-user-9"},"latency_ms":42}}'

  curl -s -X POST ${gateway} -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\
    -d '{"query":"${seedsQuery}"}'

  npx polaris meter list --org demo              (what each meter measures; README "Meters")
  npx polaris invoice upcoming acme --org demo   (the estimate again: that event counts from the next whole minute)
  npx polaris invoice list --org demo            (README "Billing quick start": your own customer, plan and invoice)
  npx polaris threshold firings --customer acme --org demo   (README "Usage thresholds": the demo's threshold fired once this period)

Press Ctrl-C to stop the services (the stack keeps running; npx polaris stack down stops it).`);
    });
}
